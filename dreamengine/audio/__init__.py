"""Audio sources: files, synthetic test signals and live capture, all mono float32.

The names below load on first use, so reading the configuration (``dreamengine config``)
does not import torch, scipy or soundfile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dreamengine.lazy import lazy_names

if TYPE_CHECKING:
    from dreamengine.audio.config import AudioConfig
    from dreamengine.audio.file import FileSource, read_audio
    from dreamengine.audio.ring import RingBuffer

_HOMES = {"AudioConfig": "config", "FileSource": "file", "RingBuffer": "ring", "read_audio": "file"}

__all__ = ["AudioConfig", "FileSource", "RingBuffer", "read_audio"]


__getattr__ = lazy_names(__name__, _HOMES)
