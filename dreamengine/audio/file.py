"""Audio files read whole into memory, mixed to mono and resampled to the pipeline rate.

``soundfile`` reads WAV, FLAC, OGG (Vorbis/Opus) and MP3; anything it cannot read is handed to
ffmpeg when it is installed. Errors name the file.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from dreamengine.errors import DreamengineError


@dataclass(frozen=True)
class AudioConfig:
    """How audio enters the pipeline."""

    sr: int = 16000  # Hz, the rate every stage after the source works at
    block_size: int = 480  # samples handed on per read in streaming use (30 ms at 16 kHz)


def read_audio(path: Path | str, sr: int) -> np.ndarray:
    """Read ``path`` as mono float32 at ``sr`` Hz: ``[n_samples]``."""
    path = Path(path)
    if not path.exists():
        raise DreamengineError(f"audio file not found: {path}")
    if not path.is_file():
        raise DreamengineError(f"not an audio file (it is a folder or device): {path}")
    try:
        data, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        data, file_sr = _read_with_ffmpeg(path, reason=str(exc))
    except OSError as exc:
        raise DreamengineError(f"cannot read audio file {path}: {exc.strerror or exc}") from None
    if data.shape[0] == 0:
        raise DreamengineError(f"audio file is empty: {path}")
    return resample(data.mean(axis=1), file_sr, sr)


def resample(mono: np.ndarray, from_sr: int, to_sr: int) -> np.ndarray:
    """Polyphase resampling of ``[n]`` float32 audio from ``from_sr`` to ``to_sr`` Hz."""
    if from_sr == to_sr:
        return np.ascontiguousarray(mono, dtype=np.float32)
    g = gcd(int(from_sr), int(to_sr))
    out = resample_poly(mono, to_sr // g, from_sr // g)
    return np.ascontiguousarray(out, dtype=np.float32)


def _read_with_ffmpeg(path: Path, reason: str) -> tuple[np.ndarray, int]:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise DreamengineError(f"cannot read audio file {path}: {reason}")
    sr = 48000
    cmd = [ffmpeg, "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-ar", str(sr), "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0 or not proc.stdout:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        raise DreamengineError(
            f"cannot read audio file {path}: {detail[-1] if detail else reason}"
        )
    return np.frombuffer(proc.stdout, dtype=np.float32)[:, None], sr


class FileSource:
    """Hands out an audio file block by block, as fast as asked (offline rendering)."""

    def __init__(self, path: Path | str, config: AudioConfig) -> None:
        self.path = Path(path)
        self.sr = config.sr
        self.samples = read_audio(self.path, config.sr)
        self._pos = 0

    @property
    def duration(self) -> float:
        """Length of the file in seconds."""
        return len(self.samples) / self.sr

    def read_until(self, t: float) -> np.ndarray:
        """All samples from the last read up to time ``t`` (s); zeros past the end of the file."""
        end = round(t * self.sr)
        if end <= self._pos:
            return np.zeros(0, dtype=np.float32)
        chunk = self.samples[self._pos : end]
        if len(chunk) < end - self._pos:
            chunk = np.concatenate([chunk, np.zeros(end - self._pos - len(chunk), np.float32)])
        self._pos = end
        return chunk
