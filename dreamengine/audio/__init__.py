"""Audio sources: files, synthetic test signals and (later) live capture, all mono float32."""

from dreamengine.audio.file import AudioConfig, FileSource, read_audio
from dreamengine.audio.ring import RingBuffer

__all__ = ["AudioConfig", "FileSource", "RingBuffer", "read_audio"]
