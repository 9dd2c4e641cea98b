"""PNG sequences encoded in a small thread pool so the render loop never waits on zlib."""

from __future__ import annotations

import io
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from dreamengine.recording.files import atomic_write_bytes


@dataclass(frozen=True)
class RecordingConfig:
    png_compress_level: int = 1  # zlib level 0–9; 1 is fast and still small
    encoder_threads: int = 1  # PNG encoding workers
    max_pending: int = 8  # frames queued for encoding before the writer blocks or drops


class PngSequenceWriter:
    """Writes ``frame_000000.png`` … atomically; counts frames it had to drop.

    With ``block=True`` (offline rendering) ``submit`` waits for a free slot; with
    ``block=False`` (live recording) a full queue drops the frame and counts it.
    """

    def __init__(self, out_dir: Path, config: RecordingConfig, block: bool = True) -> None:
        self.out_dir = out_dir
        self.config = config
        self.block = block
        self.dropped = 0
        self.written = 0
        self._slots = threading.Semaphore(config.max_pending)
        self._pool = ThreadPoolExecutor(config.encoder_threads, thread_name_prefix="png")
        self._futures: list[Future[None]] = []
        self._lock = threading.Lock()

    @staticmethod
    def filename(index: int) -> str:
        return f"frame_{index:06d}.png"

    def submit(self, index: int, rgb: np.ndarray) -> str | None:
        """Queue ``[H, W, 3]`` uint8 for writing; returns its file name, or None if dropped."""
        if not self._slots.acquire(blocking=self.block):
            self.dropped += 1
            return None
        name = self.filename(index)
        future = self._pool.submit(self._encode, self.out_dir / name, rgb.copy())
        self._futures.append(future)
        return name

    def _encode(self, path: Path, rgb: np.ndarray) -> None:
        try:
            buf = io.BytesIO()
            Image.fromarray(rgb, "RGB").save(buf, "PNG",
                                             compress_level=self.config.png_compress_level)
            atomic_write_bytes(path, buf.getvalue())
            with self._lock:
                self.written += 1
        finally:
            self._slots.release()

    def close(self) -> None:
        """Wait for every queued frame; re-raises the first write error."""
        self._pool.shutdown(wait=True)
        for future in self._futures:
            future.result()
        self._futures.clear()
