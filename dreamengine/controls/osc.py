"""An OSC endpoint on UDP: a thread receives and parses, the render loop drains a bounded inbox.

The only module that imports python-osc. Nothing here touches the show: the loop takes at most a
fixed number of messages per frame (:meth:`OscServer.drain`) and hands them to the console, so a
flood of messages can delay some of them but never stall a frame. Datagrams that are not OSC are
counted and dropped; a full inbox drops the oldest messages and counts them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from pythonosc import osc_message_builder, osc_packet

from dreamengine.errors import DreamengineError

Address = tuple[str, int]


@dataclass(frozen=True)
class OscMessage:
    address: str
    args: tuple[Any, ...]
    sender: Address


class OscServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 9000, max_inbox: int = 1024) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self._sock.bind((host, port))
        except OSError as exc:
            self._sock.close()
            raise DreamengineError(
                f"cannot listen for OSC on {host}:{port}: {exc.strerror or exc}") from None
        self._sock.settimeout(0.2)
        self.host, self.port = host, int(self._sock.getsockname()[1])
        self._inbox: deque[OscMessage] = deque(maxlen=max_inbox)
        self._lock = threading.Lock()
        self.received = 0
        self.bad_packets = 0  # datagrams that were not OSC
        self.dropped = 0  # messages pushed out of a full inbox
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="osc", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, sender = self._sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            try:
                messages = [m.message for m in osc_packet.OscPacket(data).messages]
                if not all(arguments_fit(m.dgram) for m in messages):
                    raise ValueError("arguments shorter than their type tags")
            except Exception:  # anything that is not OSC, or is cut short: count it, drop it
                self.bad_packets += 1
                continue
            with self._lock:
                for m in messages:
                    if len(self._inbox) == self._inbox.maxlen:
                        self.dropped += 1
                    self._inbox.append(OscMessage(m.address, tuple(m.params), sender[:2]))
                    self.received += 1

    def drain(self, limit: int = 256) -> list[OscMessage]:
        """Up to ``limit`` messages, oldest first."""
        with self._lock:
            n = min(limit, len(self._inbox))
            return [self._inbox.popleft() for _ in range(n)]

    def send(self, to: Address, address: str, *args: Any) -> None:
        """One OSC message to ``to``; a send that fails is ignored (UDP, the client may be gone,
        its address may be unusable)."""
        with contextlib.suppress(OSError, OverflowError, ValueError):
            self._sock.sendto(build(address, args), to)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


def build(address: str, args: tuple[Any, ...]) -> bytes:
    """One OSC message as a datagram (booleans as 0/1, lists as comma-joined strings)."""
    builder = osc_message_builder.OscMessageBuilder(address=address)
    for a in args:
        if isinstance(a, bool):
            builder.add_arg(int(a))
        elif isinstance(a, (list, tuple)):
            builder.add_arg(",".join(map(str, a)))
        else:
            builder.add_arg(a)
    return builder.build().dgram


def send_message(host: str, port: int, address: str, *args: Any) -> None:
    """Send one OSC message from a fresh socket (for tests, benchmarks and scripts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(build(address, args), (host, port))


FIXED_SIZE = {"i": 4, "f": 4, "c": 4, "r": 4, "m": 4, "d": 8, "h": 8, "t": 8,
              "T": 0, "F": 0, "N": 0, "I": 0, "[": 0, "]": 0}


def _padded_string_end(dgram: bytes, start: int) -> int | None:
    """Where the OSC string at ``start`` ends, with its NUL and padding; None if cut off."""
    nul = dgram.find(b"\0", start)
    return None if nul < 0 else start + (nul - start) // 4 * 4 + 4


def arguments_fit(dgram: bytes) -> bool:
    """Whether one OSC message's data holds every argument its type tags announce (python-osc
    reads a float cut off after ``,f`` as 0.0: a truncated message must be refused instead)."""
    tags_at = _padded_string_end(dgram, 0)
    tags_end = None if tags_at is None else _padded_string_end(dgram, tags_at)
    if tags_at is None or tags_end is None:
        return False
    pos = tags_end
    for tag in dgram[tags_at:dgram.index(b"\0", tags_at)].decode("ascii", "replace")[1:]:
        if tag in FIXED_SIZE:
            pos += FIXED_SIZE[tag]
        elif tag in "sS":
            end = _padded_string_end(dgram, pos)
            if end is None:
                return False
            pos = end
        elif tag == "b":
            if pos + 4 > len(dgram):
                return False
            size = int.from_bytes(dgram[pos : pos + 4], "big")
            pos += 4 + -(-size // 4) * 4
        if pos > len(dgram):
            return False
    return True


def parse(data: bytes) -> list[tuple[str, tuple[Any, ...]]]:
    """Decode a datagram into ``(address, args)`` pairs (for clients reading replies)."""
    return [(m.message.address, tuple(m.message.params))
            for m in osc_packet.OscPacket(data).messages]
