"""Readers for the two game-data containers that hold sounds: Qt ``.rcc`` and OpenTTD ``.cat``.

Qt resource files (gcompris-qt-data) follow the format documented in Qt's ``rcc.cpp``: a header
``qres``, version, then offsets of the tree, data and names sections. Tree nodes are 14 bytes
(22 from version 2 on, with a modification time); names are UTF-16BE with a 2-byte length and a
4-byte hash; a data entry is a 4-byte big-endian size followed by the bytes, which for a
zlib-compressed entry start with the 4-byte big-endian uncompressed length. Version 3 adds zstd.

OpenTTD's ``opensfx.cat`` is a table of ``(offset, size)`` little-endian uint32 pairs (the first
offset divided by 8 is the count); each entry starts with a length-prefixed name, then a RIFF
WAV body.
"""

from __future__ import annotations

import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

RCC_COMPRESSED = 0x01
RCC_DIRECTORY = 0x02
RCC_COMPRESSED_ZSTD = 0x04


class RccReader:
    """Walks one Qt resource file and yields ``(path, bytes)`` for every file inside it."""

    def __init__(self, blob: bytes) -> None:
        if blob[:4] != b"qres":
            raise ValueError("not a Qt resource file (missing 'qres')")
        self.blob = blob
        self.version, tree, data, names = struct.unpack(">4I", blob[4:20])
        self.tree, self.data, self.names = tree, data, names
        self.node_size = 14 if self.version < 2 else 22

    def _name(self, offset: int) -> str:
        start = self.names + offset
        (length,) = struct.unpack(">H", self.blob[start : start + 2])
        raw = self.blob[start + 6 : start + 6 + 2 * length]
        return raw.decode("utf-16-be")

    def _node(self, index: int) -> tuple[str, int, tuple[int, int]]:
        at = self.tree + index * self.node_size
        name_off, flags = struct.unpack(">IH", self.blob[at : at + 6])
        a, b = struct.unpack(">II", self.blob[at + 6 : at + 14])
        return self._name(name_off), flags, (a, b)

    def _payload(self, offset: int, flags: int) -> bytes:
        start = self.data + offset
        (size,) = struct.unpack(">I", self.blob[start : start + 4])
        raw = self.blob[start + 4 : start + 4 + size]
        if flags & RCC_COMPRESSED:
            return zlib.decompress(raw[4:])
        if flags & RCC_COMPRESSED_ZSTD:
            return _zstd_decompress(raw)
        return raw

    def files(self) -> Iterator[tuple[str, bytes]]:
        """Yield every file as ``(slash-joined path, content)``, depth first from the root."""
        stack: list[tuple[int, str]] = [(0, "")]
        while stack:
            index, prefix = stack.pop()
            name, flags, (a, b) = self._node(index)
            path = f"{prefix}/{name}" if index else ""
            if flags & RCC_DIRECTORY:
                stack.extend((b + i, path) for i in range(a))
            else:
                yield path.lstrip("/"), self._payload(b, flags)


def _zstd_decompress(raw: bytes) -> bytes:
    """Decompress one zstd frame with the ``zstd`` command (no Python binding is required)."""
    done = subprocess.run(["zstd", "-dc"], input=raw, capture_output=True, check=True)
    return done.stdout


def read_rcc(path: Path) -> Iterator[tuple[str, bytes]]:
    """Yield ``(inner path, bytes)`` for each file in the ``.rcc`` at ``path``."""
    yield from RccReader(path.read_bytes()).files()


def read_opensfx_cat(path: Path) -> Iterator[tuple[str, bytes]]:
    """Yield ``(name, RIFF WAV bytes)`` for each sample in an OpenTTD ``.cat`` sound container."""
    blob = path.read_bytes()
    (first,) = struct.unpack("<I", blob[:4])
    count = (first & 0x7FFFFFFF) // 8
    for i in range(count):
        offset, size = struct.unpack("<II", blob[8 * i : 8 * i + 8])
        offset &= 0x7FFFFFFF
        entry = blob[offset : offset + size]
        name_len = entry[0]
        name = entry[1 : 1 + name_len].split(b"\0")[0].decode("latin-1")
        body = entry[1 + name_len :]
        if body[:4] == b"RIFF":
            yield name or f"sound_{i:03d}", body
