"""Per-stage wall-clock timing for the summary and the benchmarks."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np


class StageTimer:
    """Collects durations per stage name; reports medians and percentiles in milliseconds."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.samples[name].append((time.perf_counter() - t0) * 1000.0)

    def add(self, name: str, ms: float) -> None:
        self.samples[name].append(ms)

    def summary(self) -> dict[str, dict[str, float]]:
        """``{stage: {"n", "median_ms", "p90_ms", "total_ms"}}``."""
        return {
            name: {
                "n": len(v),
                "median_ms": float(np.median(v)),
                "p90_ms": float(np.percentile(v, 90)),
                "total_ms": float(np.sum(v)),
            }
            for name, v in self.samples.items() if v
        }
