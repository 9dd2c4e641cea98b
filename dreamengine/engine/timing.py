"""Per-stage wall-clock timing for the summary and the benchmarks.

A show can run for hours at display rate, so each stage keeps at most ``keep`` samples: a
uniform random sample of every duration seen (reservoir sampling), which keeps the percentiles
of the whole run in bounded memory. The count and the total stay exact.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

KEEP = 100_000  # samples kept per stage (0.8 MB; 28 minutes of frames at 60 fps), then sampled


class _Reservoir:
    """At most ``keep`` durations, a uniform sample of all those added; exact count and sum."""

    def __init__(self, keep: int, rng: np.random.Generator) -> None:
        self.values = np.empty(keep, np.float64)
        self.n, self.total, self.rng = 0, 0.0, rng

    def add(self, ms: float) -> None:
        self.n += 1
        self.total += ms
        if self.n <= len(self.values):
            self.values[self.n - 1] = ms
        else:
            slot = int(self.rng.integers(self.n))  # keep the new one with probability keep/n
            if slot < len(self.values):
                self.values[slot] = ms

    def kept(self) -> np.ndarray:
        return self.values[: min(self.n, len(self.values))]


class StageTimer:
    """Collects durations per stage name; reports medians and percentiles in milliseconds."""

    def __init__(self, keep: int = KEEP, seed: int = 0) -> None:
        self.keep = keep
        self.rng = np.random.default_rng(seed)
        self._stages: dict[str, _Reservoir] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, (time.perf_counter() - t0) * 1000.0)

    def add(self, name: str, ms: float) -> None:
        if name not in self._stages:
            self._stages[name] = _Reservoir(self.keep, self.rng)
        self._stages[name].add(ms)

    def values(self, name: str) -> np.ndarray:
        """The kept durations of ``name`` in ms (all of them until ``keep`` were seen)."""
        stage = self._stages.get(name)
        return stage.kept() if stage is not None else np.empty(0)

    def summary(self) -> dict[str, dict[str, float]]:
        """``{stage: {"n", "median_ms", "p90_ms", "total_ms"}}``."""
        return {
            name: {
                "n": stage.n,
                "median_ms": float(np.median(stage.kept())),
                "p90_ms": float(np.percentile(stage.kept(), 90)),
                "total_ms": stage.total,
            }
            for name, stage in self._stages.items() if stage.n
        }
