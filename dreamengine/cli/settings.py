"""``dreamengine config`` (every parameter with its value and unit, as a TOML file to edit) and
``dreamengine osc`` (one message to a running show, and its replies)."""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import time
from typing import TYPE_CHECKING

from dreamengine.cli.parser import config_overrides
from dreamengine.config import dump_toml
from dreamengine.errors import DreamengineError
from dreamengine.recording.files import atomic_write_bytes

if TYPE_CHECKING:
    from dreamengine.engine.config import EngineConfig


def config_command(args: argparse.Namespace) -> int:
    from dreamengine.engine import load_config

    config = load_config(args.config, config_overrides(args))
    if args.classes:
        return _list_classes(config)
    text = ("# dreamengine config: every parameter, its value and unit (from `dreamengine "
            "config`).\n# Pass it back with --config FILE; --set KEY=VALUE overrides one.\n\n"
            + dump_toml(config))
    if args.out is None:
        print(text, end="")
        return 0
    try:
        atomic_write_bytes(args.out, text.encode("utf-8"))
    except OSError as exc:
        raise DreamengineError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"wrote {args.out}")
    return 0


def _list_classes(config: EngineConfig) -> int:
    """Every image class the configured dream can climb, one per line (loads the networks)."""
    import torch

    from dreamengine.engine.build import load_image_prior, load_vision

    if config.dream.backend == "canvas":
        net, _ = load_vision(config, torch.device("cpu"))
        labels = net.labels
    else:
        labels = load_image_prior(config, torch.device("cpu"), [])[0].labels
    print("\n".join(labels))
    return 0


def osc_command(args: argparse.Namespace) -> int:
    """Send one message from a fresh UDP port and print what comes back to it: queries
    (``/get/...``, ``/state``) must be answered, or the exit status is 1."""
    from dreamengine.controls.addresses import PREFIX, route
    from dreamengine.controls.osc import OscServer

    if args.to is None:
        raise DreamengineError("--to needs HOST:PORT")
    if not args.address.startswith(PREFIX + "/"):
        raise DreamengineError(f"OSC address {args.address!r} is outside dreamengine's space: "
                               f"addresses start with {PREFIX}/ (see the README, Performing)")
    found = route(args.address)
    if found is None:
        raise DreamengineError(f"OSC address {args.address!r} is not in dreamengine's space "
                               "(see the README, Performing)")
    host, port = args.to
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except OSError as exc:
        raise DreamengineError(f"cannot resolve OSC host {host!r}: {exc}") from None
    local = "127.0.0.1" if host in ("127.0.0.1", "localhost") else "0.0.0.0"
    server = OscServer(local, 0)
    try:
        server.send((host, port), args.address, *(_osc_value(a) for a in args.args))
        replies = 0
        deadline = time.monotonic() + args.wait
        with contextlib.suppress(KeyboardInterrupt):  # how a --watch ends
            while args.watch or time.monotonic() < deadline:
                for message in server.drain():
                    print(" ".join([message.address, *map(str, message.args)]), flush=True)
                    replies += 1
                    deadline = time.monotonic() + min(args.wait, 0.2)  # a burst (state) ends
                time.sleep(0.01)
    finally:
        server.close()
    if found[0].handler in ("get", "state") and not replies:  # a query nobody answered
        print(f"dreamengine: no reply from {host}:{port} within {args.wait:g} s (is `dreamengine "
              "live` running with OSC on that port?)", file=sys.stderr)
        return 1
    if found[0].handler == "set" and len(args.args) == 1:
        return _confirm_set(args.address, _osc_value(args.args[0]), (host, port), local)
    return 0


CONFIRM_S = 1.0  # s a set waits for the show to report the value it now holds


def _confirm_set(address: str, sent: int | float | str, to: tuple[str, int], local: str) -> int:
    """Ask the show for the value just set: 1 when nobody answers or the show kept another
    value (it refused this one: out of range, wrong kind), 0 when it holds what was sent."""
    from dreamengine.controls.addresses import PREFIX
    from dreamengine.controls.osc import OscServer

    query = PREFIX + "/get/" + address.removeprefix(PREFIX + "/")
    server = OscServer(local, 0)
    try:
        server.send(to, query)
        deadline = time.monotonic() + CONFIRM_S
        held: list[object] = []
        while not held and time.monotonic() < deadline:
            held = [m.args[0] for m in server.drain() if m.address == address and m.args]
            time.sleep(0.01)
    finally:
        server.close()
    if not held:
        print(f"dreamengine: nothing at {to[0]}:{to[1]} confirmed {address} within {CONFIRM_S:g} "
              "s (is `dreamengine live` running with OSC on that port?)", file=sys.stderr)
        return 1
    if not _same(sent, held[0]):
        print(f"dreamengine: the show refused {address} {sent}: it holds {held[0]} (the show's "
              "log says why)", file=sys.stderr)
        return 1
    return 0


def _same(sent: object, held: object) -> bool:
    """Whether the value the show holds is the one sent (numbers to 6 digits, words and
    switches as the show reads them)."""
    words = {"on": True, "true": True, "yes": True, "off": False, "false": False, "no": False}
    if isinstance(held, bool):
        return held == (words.get(str(sent).lower(), sent) if isinstance(sent, str)
                        else bool(sent))
    if isinstance(sent, (int, float)) and isinstance(held, (int, float)):
        return abs(float(sent) - float(held)) <= 1e-6 * max(1.0, abs(float(sent)))
    return str(sent) == str(held)


def _osc_value(text: str) -> int | float | str:
    """``3`` → int, ``0.5`` → float, anything else stays text."""
    with contextlib.suppress(ValueError):
        return int(text)
    with contextlib.suppress(ValueError):
        return float(text)
    return text
