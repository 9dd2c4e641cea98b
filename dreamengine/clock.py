"""Injected time: a wall clock for live runs and a fixed-step clock for offline runs and tests."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the time in seconds since it started."""

    def now(self) -> float:
        """Seconds since the clock started."""
        ...


class WallClock:
    """Monotonic real time, starting at zero when created."""

    def __init__(self) -> None:
        self._t0 = time.perf_counter()

    def now(self) -> float:
        return time.perf_counter() - self._t0


class FixedStepClock:
    """Deterministic time that moves only when :meth:`tick` is called.

    Offline rendering advances it by one frame (``1 / fps`` seconds) per output frame, so a render
    is the same whatever the machine's speed.
    """

    def __init__(self, dt: float, start: float = 0.0) -> None:
        if dt <= 0:
            raise ValueError(f"dt must be positive, got {dt}")
        self.dt = dt
        self._steps = 0
        self._start = start

    def now(self) -> float:
        return self._start + self._steps * self.dt

    def tick(self) -> float:
        """Advance one step and return the new time."""
        self._steps += 1
        return self.now()
