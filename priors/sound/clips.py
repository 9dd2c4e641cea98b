"""Turn any decoded sound into clean training clips: 16 kHz mono, trimmed, cut, de-duplicated.

Every source, real or synthetic, goes through ``make_pieces``: mix to mono, resample to
``SR`` with a polyphase filter, peak-normalise, trim leading and trailing silence, drop it if
under ``MIN_SECONDS``, cut it into equal pieces of at most ``MAX_SECONDS`` and drop pieces
that are nearly silent. Each piece carries two hashes for de-duplication: an exact one of the
int16 samples and a coarse one of its loudness envelope, which also catches the same sample
shipped by two games at different rates or gains.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

SR = 16000
MIN_SECONDS = 0.3
MAX_SECONDS = 10.0
SILENCE_DB = -45.0  # frame RMS below this (dBFS, after peak normalisation) counts as silence
PIECE_FLOOR_DB = -40.0  # a piece whose overall RMS is below this is dropped as near-silent
PEAK = 0.89  # -1 dBFS
FRAME = 320  # 20 ms at 16 kHz


@dataclass(frozen=True)
class Piece:
    """One clip ready to write: ``samples`` is ``[n] float32`` at ``SR``."""

    samples: np.ndarray
    exact_hash: str
    envelope_hash: str

    @property
    def seconds(self) -> float:
        return len(self.samples) / SR


def decode(data: bytes | Path) -> tuple[np.ndarray, int]:
    """Decode WAV/OGG/Opus/FLAC to ``([n, channels] float32, sr)``; ffmpeg for the rest."""
    source = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    try:
        samples, sr = sf.read(source, dtype="float32", always_2d=True)
        return samples, sr
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return _decode_ffmpeg(data)


def _decode_ffmpeg(data: bytes | Path) -> tuple[np.ndarray, int]:
    args = ["ffmpeg", "-v", "error", "-i", "pipe:0" if isinstance(data, bytes) else str(data)]
    args += ["-ac", "1", "-ar", str(SR), "-f", "f32le", "pipe:1"]
    stdin = data if isinstance(data, bytes) else None
    done = subprocess.run(args, input=stdin, capture_output=True, check=True)
    return np.frombuffer(done.stdout, dtype=np.float32).reshape(-1, 1), SR


def to_mono_16k(samples: np.ndarray, sr: int) -> np.ndarray:
    """``[n, channels]`` at ``sr`` -> ``[m] float32`` mono at ``SR``."""
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    mono = np.nan_to_num(mono.astype(np.float64))
    if sr != SR:
        g = gcd(sr, SR)
        mono = resample_poly(mono, SR // g, sr // g)
    return mono.astype(np.float32)


def frame_db(x: np.ndarray) -> np.ndarray:
    """RMS level in dBFS of each ``FRAME``-sample frame: ``[n] -> [n // FRAME]``."""
    n = len(x) // FRAME
    if n == 0:
        return np.full(1, -120.0)
    frames = x[: n * FRAME].reshape(n, FRAME).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def normalise(x: np.ndarray) -> np.ndarray:
    """Remove DC and scale the peak to ``PEAK``; silence stays silence."""
    x = x - x.mean()
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    return x * (PEAK / peak) if peak > 1e-4 else np.zeros_like(x)


def trim(x: np.ndarray) -> np.ndarray:
    """Cut leading and trailing frames quieter than ``SILENCE_DB`` (keeping one frame margin)."""
    loud = np.flatnonzero(frame_db(x) > SILENCE_DB)
    if len(loud) == 0:
        return x[:0]
    start = max(0, (loud[0] - 1) * FRAME)
    stop = min(len(x), (loud[-1] + 2) * FRAME)
    return x[start:stop]


def cut(x: np.ndarray) -> list[np.ndarray]:
    """Split into the fewest equal pieces of at most ``MAX_SECONDS``."""
    count = int(np.ceil(len(x) / (MAX_SECONDS * SR)))
    return [p for p in np.array_split(x, max(count, 1)) if len(p)]


def _hashes(piece: np.ndarray) -> tuple[str, str]:
    pcm = np.round(piece * 32767).astype("<i2")
    exact = hashlib.sha1(pcm.tobytes()).hexdigest()[:16]
    envelope = np.round(frame_db(piece[: 4 * SR]) / 4).astype(np.int8)
    coarse = hashlib.sha1(envelope.tobytes()).hexdigest()[:16]
    return exact, coarse


def make_pieces(samples: np.ndarray, sr: int) -> list[Piece]:
    """The full clean-up chain for one recording; an empty list means it was junk."""
    x = trim(normalise(to_mono_16k(samples, sr)))
    if len(x) < MIN_SECONDS * SR:
        return []
    pieces = []
    for part in cut(x):
        level = 10 * np.log10(np.mean(part.astype(np.float64) ** 2) + 1e-12)
        if len(part) >= MIN_SECONDS * SR and level > PIECE_FLOOR_DB:
            pieces.append(Piece(part, *_hashes(part)))
    return pieces


def write_wav(path: Path, piece: Piece) -> None:
    """Write a piece as 16-bit PCM WAV (through a temporary name, so a crash leaves no stub)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.wav")
    sf.write(tmp, piece.samples, SR, subtype="PCM_16")
    tmp.replace(path)


def read_wav(path: Path) -> np.ndarray:
    """Read one of our clips back as ``[n] float32`` at ``SR``."""
    x, sr = sf.read(path, dtype="float32")
    if sr != SR:
        raise ValueError(f"{path} is at {sr} Hz, expected {SR}")
    return x
