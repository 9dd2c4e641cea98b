"""Progress of long commands on stderr: a tqdm bar in a terminal, a line per tenth in a log."""

from __future__ import annotations

import sys
from typing import Any


class Progress:
    """``update(done, total)`` with ``total`` None while unknown; :meth:`close` when done."""

    def __init__(self, desc: str, unit: str, quiet: bool = False) -> None:
        self.desc, self.unit, self.quiet = desc, unit, quiet
        self._bar: Any = None  # a tqdm bar, made on the first update in a terminal
        self._last_tenth = -1
        self._tty = sys.stderr.isatty()

    def update(self, done: float, total: float | None) -> None:
        if self.quiet:
            return
        if self._tty:
            self._tqdm(done, total)
        elif total:
            tenth = int(10 * done / total)
            if tenth != self._last_tenth:
                self._last_tenth = tenth
                print(f"  {self.desc}: {done:.0f}/{total:.0f} {self.unit}", file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _tqdm(self, done: float, total: float | None) -> None:
        if self._bar is None:
            from tqdm import tqdm  # a terminal only; logs get plain lines

            self._bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=sys.stderr,
                             dynamic_ncols=True, leave=False,
                             bar_format=None if total else "{desc}: {n:.0f} {unit}")
        self._bar.total = total
        self._bar.n = done
        self._bar.refresh()
