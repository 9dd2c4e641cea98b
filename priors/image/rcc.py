"""Reader for Qt binary resource files (``.rcc``), the container GCompris ships its assets in.

Format (Qt's ``rcc`` tool, versions 1-3): a ``qres`` magic, then big-endian u32 version, tree
offset, data offset, names offset (and a u32 flags word from version 3). The tree is an array of
fixed-size nodes: ``name_offset u32, flags u16`` then either ``child_count u32, first_child u32``
(directory, flag 2) or ``country u16, language u16, data_offset u32`` (file), plus a u64
modification time from version 2. Names are ``u16 length, u32 hash, UTF-16BE``. Each data entry
is ``u32 length`` + payload; flag 1 means zlib (``qCompress``: a 4-byte big-endian uncompressed
length, then a zlib stream), flag 4 means zstd.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

FLAG_ZLIB = 1
FLAG_DIR = 2
FLAG_ZSTD = 4


class RccFile:
    """Random access to the files in one ``.rcc`` blob."""

    def __init__(self, blob: bytes) -> None:
        if blob[:4] != b"qres":
            raise ValueError("not a Qt rcc file (missing 'qres' magic)")
        self.blob = blob
        self.version, self.tree, self.data, self.names = struct.unpack(">IIII", blob[4:20])
        self.node_size = 14 if self.version < 2 else 22

    @classmethod
    def open(cls, path: Path) -> RccFile:
        return cls(Path(path).read_bytes())

    def _name(self, offset: int) -> str:
        (length,) = struct.unpack(">H", self.blob[self.names + offset : self.names + offset + 2])
        start = self.names + offset + 6
        return self.blob[start : start + 2 * length].decode("utf-16-be")

    def _node(self, index: int) -> tuple[str, int, int, int]:
        """Return ``(name, flags, a, b)`` where a/b are child count/first child or 0/data offset."""
        pos = self.tree + index * self.node_size
        name_off, flags = struct.unpack(">IH", self.blob[pos : pos + 6])
        if flags & FLAG_DIR:
            a, b = struct.unpack(">II", self.blob[pos + 6 : pos + 14])
        else:
            a, b = 0, struct.unpack(">I", self.blob[pos + 10 : pos + 14])[0]
        return self._name(name_off) if index else "", flags, a, b

    def _payload(self, flags: int, offset: int) -> bytes:
        pos = self.data + offset
        (length,) = struct.unpack(">I", self.blob[pos : pos + 4])
        raw = self.blob[pos + 4 : pos + 4 + length]
        if flags & FLAG_ZLIB:
            return zlib.decompress(raw[4:])
        if flags & FLAG_ZSTD:
            return _zstd_decompress(raw)
        return raw

    def walk(self, index: int = 0, prefix: str = "") -> Iterator[tuple[str, int, int]]:
        """Yield ``(path, flags, data_offset)`` for every file below node ``index``."""
        name, flags, count, first = self._node(index)
        path = f"{prefix}/{name}" if name else prefix
        if not flags & FLAG_DIR:
            yield path, flags, first
            return
        for child in range(first, first + count):
            yield from self.walk(child, path)

    def files(self) -> Iterator[tuple[str, bytes]]:
        """Yield ``(path, decompressed bytes)`` for every file in the resource."""
        for path, flags, offset in self.walk():
            yield path, self._payload(flags, offset)

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.walk()]

    def read(self, wanted: str) -> bytes:
        for path, flags, offset in self.walk():
            if path == wanted:
                return self._payload(flags, offset)
        raise KeyError(wanted)


def _zstd_decompress(raw: bytes) -> bytes:
    try:
        import zstandard
    except ImportError as exc:  # pragma: no cover - only for zstd-built rcc files
        raise RuntimeError("zstd-compressed rcc entry; pip install zstandard") from exc
    return zstandard.ZstdDecompressor().decompress(raw, max_output_size=1 << 28)
