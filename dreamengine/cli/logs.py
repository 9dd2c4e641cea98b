"""Log lines from dreamengine and the libraries it uses, at most one per source every 5 s.

Third-party code (python-osc warns through the root logger for every malformed bundle) must not
flood a performer's terminal: every record goes through one handler whose filter lets a source's
first line through, drops the rest for ``interval_s`` and then says how many it dropped.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

INTERVAL_S = 5.0


class RateLimit(logging.Filter):
    """Passes at most one record per logger (and level) every ``interval_s`` seconds."""

    def __init__(self, interval_s: float = INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval_s, self.clock = interval_s, clock
        self._last: dict[tuple[str, int], float] = {}
        self._dropped: dict[tuple[str, int], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key, now = (record.name, record.levelno), self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            self._dropped[key] = self._dropped.get(key, 0) + 1
            return False
        self._last[key] = now
        dropped = self._dropped.pop(key, 0)
        if dropped:
            record.msg = f"{record.getMessage()} ({dropped} more like it in the last " \
                         f"{self.interval_s:g} s not shown)"
            record.args = ()
        return True


def configure_logging() -> logging.Handler:
    """Route every logger through one rate-limited stderr handler (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if any(isinstance(f, RateLimit) for f in handler.filters):
            return handler
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("dreamengine: %(levelname)s: %(message)s"))
    handler.addFilter(RateLimit())
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    return handler
