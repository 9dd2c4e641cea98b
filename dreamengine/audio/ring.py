"""A single-producer ring buffer for audio: the capture callback writes, the engine reads.

The callback only copies into it; if the reader falls behind, the oldest samples are
overwritten and counted as an overflow rather than dropped silently.
"""

from __future__ import annotations

import threading

import numpy as np


class RingBuffer:
    """Fixed-capacity float32 FIFO of mono samples."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self._data = np.zeros(capacity, dtype=np.float32)
        self._write = 0  # total samples ever written
        self._read = 0  # total samples ever read
        self._lock = threading.Lock()
        self.overflows = 0  # times the writer overwrote unread samples
        self.lost_samples = 0

    @property
    def capacity(self) -> int:
        return len(self._data)

    def available(self) -> int:
        """Samples written but not yet read."""
        with self._lock:
            return self._write - self._read

    def write(self, block: np.ndarray) -> None:
        """Copy ``block`` (``[n]`` float32) in; overwrite the oldest unread samples if full."""
        n = len(block)
        cap = self.capacity
        if n >= cap:
            block = block[-cap:]
        with self._lock:
            start = (self._write + n - len(block)) % cap  # where the kept tail belongs
            first = min(len(block), cap - start)
            self._data[start : start + first] = block[:first]
            self._data[: len(block) - first] = block[first:]
            self._write += n
            unread = self._write - self._read
            if unread > cap:
                self.overflows += 1
                self.lost_samples += unread - cap
                self._read = self._write - cap

    def read(self, max_samples: int | None = None) -> np.ndarray:
        """Take up to ``max_samples`` unread samples (all of them when None), oldest first."""
        with self._lock:
            n = self._write - self._read
            if max_samples is not None:
                n = min(n, max_samples)
            cap = self.capacity
            idx = (self._read + np.arange(n)) % cap
            out = self._data[idx].copy()
            self._read += n
            return out
