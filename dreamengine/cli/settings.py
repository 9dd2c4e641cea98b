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
    return 0


def _osc_value(text: str) -> int | float | str:
    """``3`` → int, ``0.5`` → float, anything else stays text."""
    with contextlib.suppress(ValueError):
        return int(text)
    with contextlib.suppress(ValueError):
        return float(text)
    return text
