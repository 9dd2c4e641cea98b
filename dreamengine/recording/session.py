"""A recorded session: everything ``replay`` needs to re-render what was shown, frame for frame.

``DIR/session.json``      what made it: config, sizes, the prior bundle, the input
``DIR/frames.jsonl``      one line per rendered frame (``file`` is null when it was not written)
``DIR/keyframes.jsonl``   one line per keyframe: index, arrival time, target, offset in the sidecar
``DIR/keyframes.f32``     the keyframes' latents, float32, appended as they come (compact)

A small latent (the emoji prior's 128 numbers) is stored for every keyframe. A canvas (the
picture itself, 110,592 numbers at 192 px) is stored only as a *snapshot*: the first keyframe,
every ``snapshot_s`` seconds, after a reset and after any gap in the dream's keyframe counter
(a keyframe the show never took). Every other keyframe's line keeps its target, sampler
parameters, motion and counter, from which ``replay`` re-simulates it exactly.
``DIR/frame_*.png``       the frames, written atomically by the encoder pool
``DIR/audio.wav``         what was heard, from the session's start (live runs)

Live recording never stops the show: the first write error (a full disk, a vanished drive)
stops the recording with :attr:`SessionRecorder.stopped` saying why. Offline rendering raises.
"""

from __future__ import annotations

import contextlib
import json
from collections import deque
from concurrent.futures import Future
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from dreamengine.errors import DreamengineError
from dreamengine.recording.files import atomic_write_bytes, prepare_output_dir
from dreamengine.recording.framelog import FrameLog, jsonable
from dreamengine.recording.png import PngSequenceWriter, RecordingConfig

SESSION_FILE = "session.json"
FRAMES_FILE = "frames.jsonl"
KEYFRAMES_FILE = "keyframes.jsonl"
LATENTS_FILE = "keyframes.f32"
AUDIO_FILE = "audio.wav"
VIDEO_FILE = "video.mp4"
FRAME_PATTERN = "frame_*.png"
SMALL_LATENT = 4096  # latents up to this many numbers are stored with every keyframe


@dataclass(frozen=True)
class RecordingSummary:
    frames: int  # frames logged
    written: int  # PNGs on disk
    dropped: int  # frames not written (encoder busy, or after a write error)
    stopped: str | None  # why recording stopped early, if it did


class SessionRecorder:
    def __init__(self, out_dir: Path, config: RecordingConfig, meta: dict[str, Any],
                 live: bool) -> None:
        self.out_dir = prepare_output_dir(out_dir)
        self.live = live
        self.stopped: str | None = None
        try:  # a disk already full: one clear line, not a traceback
            atomic_write_bytes(self.out_dir / SESSION_FILE,
                               json.dumps(jsonable(meta), indent=1).encode())
            self._frames = FrameLog(self.out_dir / FRAMES_FILE)
            self._keyframes = FrameLog(self.out_dir / KEYFRAMES_FILE)
            self._latents = open(self.out_dir / LATENTS_FILE, "wb")  # noqa: SIM115 - see close()
        except OSError as exc:
            raise DreamengineError(f"cannot start a session in {self.out_dir}: "
                                   f"{exc.strerror or exc}") from None
        self._writer = PngSequenceWriter(self.out_dir, config, block=not live)
        self._latent_count = 0
        self._snapshot_s = config.snapshot_s
        self._last_snapshot_t = -float("inf")
        self._last_step: int | None = None
        self._audio: sf.SoundFile | None = None
        self._saved = 0  # frames offered for saving: names stay contiguous when live skips some
        # frame lines wait here until their PNG is on disk (or failed: then ``file`` is null)
        self._pending: deque[tuple[dict[str, Any], str | None, Future[bool] | None]] = deque()

    def keyframe(self, record: dict[str, Any], latent: np.ndarray) -> None:
        """Log a keyframe (``record`` holds index, t, target) and append its latent."""
        self._guard(lambda: self._write_keyframe(record, latent))

    def _write_keyframe(self, record: dict[str, Any], latent: np.ndarray) -> None:
        if not self._needs_latent(record, latent):
            self._keyframes.write(record)
            self._last_step = record.get("step")
            return
        self._latents.write(np.ascontiguousarray(latent, dtype=np.float32).tobytes())
        self._latents.flush()
        self._keyframes.write({**record, "latent_row": self._latent_count})
        self._latent_count += 1
        self._last_snapshot_t = float(record.get("t", 0.0))
        self._last_step = record.get("step")

    def _needs_latent(self, record: dict[str, Any], latent: np.ndarray) -> bool:
        """Small latents always; a canvas when replay could not re-simulate it exactly."""
        if latent.size <= SMALL_LATENT or "step" not in record or record.get("reset"):
            return True
        step, last = int(record["step"]), self._last_step
        due = float(record.get("t", 0.0)) - self._last_snapshot_t >= self._snapshot_s
        return due or last is None or step != int(last) + 1

    def audio(self, samples: np.ndarray, sr: int) -> None:
        """Append heard samples (mono float32 at ``sr``) to ``audio.wav``."""
        if len(samples) == 0:
            return

        def write() -> None:
            if self._audio is None:
                self._audio = sf.SoundFile(self.out_dir / AUDIO_FILE, "w", samplerate=sr,
                                           channels=1, subtype="PCM_16")
            self._audio.write(samples)

        self._guard(write)

    def frame(self, record: dict[str, Any], rgb: np.ndarray | None) -> str | None:
        """Queue a frame's PNG (``rgb`` None: not written) and log it once the PNG is on disk
        (a frame whose PNG could not be written is logged with ``file`` null); returns the
        file name it will have."""
        if self.stopped is None and self._writer.error is not None:
            if not self.live:  # offline rendering raises: a render with holes is no render
                raise DreamengineError(f"cannot write frames to {self.out_dir}: "
                                       f"{self._writer.error}")
            self._log_frames(wait=True)
            self._stop(self._writer.error)
        name, future = None, None
        if rgb is not None and self.stopped is None:
            future = self._writer.queue(self._saved, rgb)
            name = None if future is None else self._writer.filename(self._saved)
            self._saved += 1
        self._pending.append((record, name, future))
        self._log_frames(wait=False)
        return name

    def _log_frames(self, wait: bool) -> None:
        """Write the waiting frame lines, in order, whose PNG has been written or has failed."""
        while self._pending:
            record, name, future = self._pending[0]
            if future is not None and not future.done():
                if not wait:
                    return
                wait_for([future])
            self._pending.popleft()
            written = future is not None and future.exception() is None and future.result()
            line = {"file": name if written else None,
                    **{k: v for k, v in record.items() if k != "file"}}
            self._guard(lambda line=line: self._frames.write(line))

    def _guard(self, write: Any) -> None:
        if self.stopped is not None:
            return
        try:
            write()
        except (OSError, sf.LibsndfileError) as exc:
            if not self.live:
                raise DreamengineError(f"cannot write to {self.out_dir}: {exc}") from None
            self._stop(exc)

    def _stop(self, exc: Exception) -> None:
        reason = getattr(exc, "strerror", None) or exc
        self.stopped = f"recording to {self.out_dir} stopped: {reason}"

    @property
    def dropped_frames(self) -> int:
        """Frames the encoder could not keep up with so far."""
        return int(self._writer.dropped)

    def close(self) -> RecordingSummary:
        try:
            self._writer.close()
        except OSError as exc:
            raise DreamengineError(f"cannot write frames to {self.out_dir}: {exc}") from None
        finally:
            self._log_frames(wait=True)
            for f in (self._frames, self._keyframes, self._latents, self._audio):
                with contextlib.suppress(OSError, RuntimeError):
                    if f is not None:
                        f.close()
        if self.stopped is None and self._writer.error is not None:
            self._stop(self._writer.error)
        return RecordingSummary(self._frames.lines, self._writer.written, self._writer.dropped,
                                self.stopped)


def session_files(folder: Path) -> list[Path]:
    """The files of a recorded session (or a render) in ``folder``; empty when it holds none."""
    if not folder.is_dir():
        return []
    named = (SESSION_FILE, FRAMES_FILE, KEYFRAMES_FILE, LATENTS_FILE, AUDIO_FILE, VIDEO_FILE)
    return [folder / n for n in named if (folder / n).exists()] + sorted(folder.glob(FRAME_PATTERN))


def claim_session_dir(folder: Path, existing: str) -> Path:
    """The folder a new session may be written to, never mixing with or replacing one already
    there unless asked. ``existing`` says what to do when ``folder`` holds a session:
    ``"refuse"`` (an error naming it), ``"beside"`` (the first free ``folder-2``, ``folder-3``
    …; for a show that must start) or ``"replace"`` (its files are deleted first)."""
    found = session_files(folder)
    if not found:
        return folder
    if existing == "replace":
        try:
            for path in found:
                path.unlink()
        except OSError as exc:
            raise DreamengineError(f"cannot replace the session in {folder}: {exc}") from None
        return folder
    if existing == "beside":
        base = folder if folder.name else folder.resolve()  # "." has no name to add to
        n = 2
        while session_files(base.with_name(f"{base.name}-{n}")):
            n += 1
        return base.with_name(f"{base.name}-{n}")
    raise DreamengineError(f"{folder} already holds a recorded session ({found[0].name}); "
                           "choose another folder, or add --force to replace it")


def read_session(session_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]],
                                              list[dict[str, Any]], np.ndarray]:
    """``(meta, frames, keyframes, latents [n_keyframes, latent_dim])`` of a recorded session."""
    try:
        meta = json.loads((session_dir / SESSION_FILE).read_text())
        frames = read_jsonl(session_dir / FRAMES_FILE)
        keyframes = read_jsonl(session_dir / KEYFRAMES_FILE)
        raw = np.fromfile(session_dir / LATENTS_FILE, dtype=np.float32)
    except FileNotFoundError as exc:
        raise DreamengineError(f"not a recorded session: {exc.filename} is missing") from None
    except (OSError, ValueError) as exc:
        raise DreamengineError(f"cannot read session {session_dir}: {exc}") from None
    dim = int(meta["latent_dim"])
    rows = len(raw) // dim
    return meta, frames, keyframes, raw[: rows * dim].reshape(rows, dim)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every object of a ``.jsonl`` log; a last line cut off by a crash is left out."""
    lines = path.read_text().splitlines()
    out = []
    for i, line in enumerate(lines):
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break  # a run cut off mid-line: keep what is complete
            raise ValueError(f"{path.name} line {i + 1} is not JSON") from None
    return out
