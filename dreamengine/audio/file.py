"""Audio files decoded block by block, mixed to mono and resampled to the pipeline rate.

``soundfile`` reads WAV, FLAC, OGG (Vorbis/Opus) and MP3 in blocks; anything it cannot read is
piped through ffmpeg when it is installed. Nothing holds a whole file: memory stays flat and
start-up does not depend on the file's length, so a 3-hour set renders as a 3-minute one does.
Errors name the file.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from math import ceil, gcd
from pathlib import Path
from typing import IO

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from dreamengine.audio.config import AudioConfig
from dreamengine.errors import DreamengineError

BLOCK_S = 5.0  # s of audio decoded per block


def read_audio(path: Path | str, sr: int) -> np.ndarray:
    """Read ``path`` whole as mono float32 at ``sr`` Hz: ``[n_samples]`` (short clips)."""
    reader = AudioReader(path, sr)
    try:
        return np.concatenate(list(reader.blocks()))
    finally:
        reader.close()


def resample(mono: np.ndarray, from_sr: int, to_sr: int) -> np.ndarray:
    """Polyphase resampling of ``[n]`` float32 audio from ``from_sr`` to ``to_sr`` Hz."""
    if from_sr == to_sr:
        return np.ascontiguousarray(mono, dtype=np.float32)
    g = gcd(int(from_sr), int(to_sr))
    out = resample_poly(mono, to_sr // g, from_sr // g)
    return np.ascontiguousarray(out, dtype=np.float32)


class BlockResampler:
    """:func:`resample` applied block by block, with the same output as on the whole signal.

    Each block is resampled with ``margin`` input samples of context on both sides (more than
    the polyphase filter's half length) and only its own part of the output is kept; blocks and
    margins are whole multiples of the decimation factor, so every block's output starts on an
    exact output sample.
    """

    def __init__(self, from_sr: int, to_sr: int, block: int = 16384) -> None:
        g = gcd(int(from_sr), int(to_sr))
        self.up, self.down = int(to_sr) // g, int(from_sr) // g
        reach = 10 * max(self.up, self.down) / self.up + 8  # filter half length, input samples
        self.margin = self.down * ceil(reach / self.down)
        self.block = self.down * max(1, ceil(block / self.down))
        self._buf = np.zeros(self.margin, np.float32)  # left context: silence before the start

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Feed ``[n]`` input samples; returns the output samples now complete."""
        if self.up == self.down:
            return np.ascontiguousarray(samples, dtype=np.float32)
        self._buf = np.concatenate([self._buf, samples.astype(np.float32, copy=False)])
        out = []
        while len(self._buf) >= 2 * self.margin + self.block:
            out.append(self._run(self._buf[: 2 * self.margin + self.block], self.block))
            self._buf = self._buf[self.block :]
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def flush(self) -> np.ndarray:
        """The output of the input still held (the end of the signal)."""
        n = len(self._buf) - self.margin
        if self.up == self.down or n <= 0:
            return np.zeros(0, np.float32)
        tail = np.concatenate([self._buf, np.zeros(self.margin, np.float32)])
        self._buf = self._buf[:0]
        return self._run(tail, n)

    def _run(self, chunk: np.ndarray, n: int) -> np.ndarray:
        y = resample_poly(chunk, self.up, self.down)
        start = self.margin * self.up // self.down
        return np.ascontiguousarray(y[start : start + ceil(n * self.up / self.down)],
                                    dtype=np.float32)


class AudioReader:
    """Mono float32 blocks at ``sr`` Hz from one file, decoded as they are asked for."""

    def __init__(self, path: Path | str, sr: int, block_s: float = BLOCK_S) -> None:
        self.path = Path(path)
        self.sr = sr
        self.block_s = block_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._errors: IO[bytes] | None = None  # ffmpeg's messages, when it decodes
        if not self.path.exists():
            raise DreamengineError(f"audio file not found: {self.path}")
        if not self.path.is_file():
            raise DreamengineError(f"not an audio file (it is a folder or device): {self.path}")
        try:
            self._file: sf.SoundFile | None = sf.SoundFile(str(self.path))
        except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
            self._file = None
            self._start_ffmpeg(reason=str(exc))
        except OSError as exc:
            raise DreamengineError(
                f"cannot read audio file {self.path}: {exc.strerror or exc}") from None
        self._first = self._read_first()

    @property
    def duration(self) -> float | None:
        """Length in seconds (None when the decoder cannot tell before the end)."""
        if self._file is not None:
            return self._file.frames / self._file.samplerate
        return self._probe_duration()

    def blocks(self) -> Iterator[np.ndarray]:
        """The file from the start, ``block_s`` at a time (the last block may be shorter)."""
        yield self._first
        if self._file is not None:
            yield from self._soundfile_blocks()
        else:
            yield from self._ffmpeg_blocks()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            if self._proc.stdout is not None:
                self._proc.stdout.close()
        if self._errors is not None:
            self._errors.close()

    def _read_first(self) -> np.ndarray:
        """The first block, read now so an unreadable or empty file fails at once."""
        if self._file is not None:
            self._resampler = BlockResampler(self._file.samplerate, self.sr)
            first = self._next_soundfile_block()
        else:
            first = self._next_pipe_block()
        if first is None or first.size == 0:
            self.close()
            raise DreamengineError(f"audio file is empty: {self.path}")
        return first

    def _next_soundfile_block(self) -> np.ndarray | None:
        assert self._file is not None
        n = max(1, round(self.block_s * self._file.samplerate))
        try:
            data = self._file.read(n, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise DreamengineError(f"cannot read audio file {self.path}: {exc}") from None
        if data.shape[0] == 0:
            return None
        out = self._resampler.push(data.mean(axis=1))
        if data.shape[0] < n:  # the end: what the resampler still holds
            out = np.concatenate([out, self._resampler.flush()])
        return out

    def _soundfile_blocks(self) -> Iterator[np.ndarray]:
        while (block := self._next_soundfile_block()) is not None:
            if block.size:
                yield block
        tail = self._resampler.flush()
        if tail.size:
            yield tail

    def _start_ffmpeg(self, reason: str) -> None:
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg is None:
            raise DreamengineError(f"cannot read audio file {self.path}: {reason}")
        self._reason = reason
        cmd = [ffmpeg, "-nostdin", "-v", "error", "-i", str(self.path), "-f", "f32le", "-ac",
               "1", "-ar", str(self.sr), "-"]
        # its messages go to a file, not a pipe: a damaged long file can print more than a pipe
        # holds while nobody reads it, and ffmpeg would then stop and the render wait forever
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._errors)

    def _next_pipe_block(self) -> np.ndarray | None:
        assert self._proc is not None and self._proc.stdout is not None
        data = self._proc.stdout.read(4 * max(1, round(self.block_s * self.sr)))
        if data:
            return np.frombuffer(data[: len(data) // 4 * 4], dtype=np.float32).copy()
        if self._proc.wait() != 0:
            assert self._errors is not None
            self._errors.seek(0)
            detail = self._errors.read().decode(errors="replace").strip().splitlines()
            raise DreamengineError(
                f"cannot read audio file {self.path}: {detail[-1] if detail else self._reason}")
        return None

    def _ffmpeg_blocks(self) -> Iterator[np.ndarray]:
        while (block := self._next_pipe_block()) is not None:
            yield block

    def _probe_duration(self) -> float | None:
        ffprobe = shutil.which("ffprobe")
        if ffprobe is None:
            return None
        cmd = [ffprobe, "-v", "error", "-show_entries", "format=duration", "-of",
               "default=noprint_wrappers=1:nokey=1", str(self.path)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)
        try:
            return float(done.stdout.strip())
        except ValueError:
            return None


class FileSource:
    """Hands out an audio file block by block, as fast as asked (offline rendering); decodes
    only as far as it has been asked for."""

    def __init__(self, path: Path | str, config: AudioConfig) -> None:
        self.path = Path(path)
        self.sr = config.sr
        self._reader = AudioReader(self.path, config.sr)
        self._blocks = self._reader.blocks()
        self._held = np.zeros(0, np.float32)  # decoded, not yet handed out
        self._pos = 0  # samples handed out (or skipped past the end)
        self._ended = False

    @property
    def duration(self) -> float:
        """Length of the file in seconds (decodes to the end when the decoder cannot tell)."""
        known = self._reader.duration
        if known is not None:
            return known
        while not self._ended:
            self._decode_more()
        return (self._pos + len(self._held)) / self.sr

    def read_until(self, t: float) -> np.ndarray:
        """All samples from the last read up to time ``t`` (s); zeros past the end of the file."""
        end = round(t * self.sr)
        if end <= self._pos:
            return np.zeros(0, dtype=np.float32)
        want = end - self._pos
        while len(self._held) < want and not self._ended:
            self._decode_more()
        chunk, self._held = self._held[:want], self._held[want:]
        if len(chunk) < want:
            chunk = np.concatenate([chunk, np.zeros(want - len(chunk), np.float32)])
        self._pos = end
        return chunk

    def close(self) -> None:
        self._reader.close()

    def _decode_more(self) -> None:
        block = next(self._blocks, None)
        if block is None:
            self._ended = True
            return
        self._held = np.concatenate([self._held, block])
