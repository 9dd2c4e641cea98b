"""The mode new files get: 0666 less the process's umask (temporary files start at 0600)."""

from __future__ import annotations

import functools
import os


@functools.cache
def usual_file_mode() -> int:
    """0666 less the umask. Reading the umask means setting it, so it is set straight back;
    read once, before any writer thread runs, since the umask is process-wide."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask
