"""Health figures of a running show, one JSON line every few seconds (``live --stats``), for
soak runs and monitoring: frame-time percentiles, memory, keyframes, overflows, drops."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

STATS_EVERY_S = 10.0


def resident_mb(pid: int | str = "self") -> float | None:
    """A process's resident memory in MB (Linux), or None where it cannot be read."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def memory(dream_pid: int | None) -> dict[str, float | None]:
    """Resident MB of the engine: this process plus the dream process when there is one."""
    main = resident_mb()
    dream = resident_mb(dream_pid) if dream_pid is not None else None
    total = None if main is None else main + (dream or 0.0)
    return {"rss_mb": total, "dream_rss_mb": dream}


class StatsLog:
    """Collects frame times and appends one line per :data:`STATS_EVERY_S` of show time; a
    write that fails turns the log off with one message, never the show."""

    def __init__(self, path: Path, say: Callable[[str], None]) -> None:
        self.path: Path | None = path
        self.say = say
        self._window: list[float] = []
        self._next = STATS_EVERY_S

    def add(self, ms: float, t: float, figures: Callable[[], dict[str, Any]]) -> None:
        """One frame's time; at a window's end, a line with ``figures()`` merged in."""
        if self.path is None:
            return
        self._window.append(ms)
        if t >= self._next:
            self._write(t, figures())

    def _write(self, t: float, figures: dict[str, Any]) -> None:
        self._next += STATS_EVERY_S
        w = np.asarray(self._window)
        self._window = []
        line = {"t": round(t, 3), "frames": len(w),
                "frame_ms_p50": float(np.median(w)) if len(w) else None,
                "frame_ms_p99": float(np.percentile(w, 99)) if len(w) else None,
                "frame_ms_max": float(w.max()) if len(w) else None, **figures}
        assert self.path is not None
        try:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")
        except OSError as exc:
            self.say(f"warning: cannot write stats to {self.path}: {exc.strerror or exc}; "
                     "stats off")
            self.path = None
