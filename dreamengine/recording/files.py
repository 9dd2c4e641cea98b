"""Atomic file writes and output-folder checks."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dreamengine.errors import DreamengineError
from dreamengine.filemode import usual_file_mode


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place.

    A reader never sees a half-written file; on failure the temporary file is removed. The file
    gets the usual permissions (0666 less the umask), not the temporary file's 0600.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            os.fchmod(f.fileno(), usual_file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise



def prepare_output_dir(path: Path) -> Path:
    """Create ``path`` if needed and prove it is writable before any work starts."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".write-test.")
        os.close(fd)
        os.unlink(probe)
    except FileExistsError:
        raise DreamengineError(f"output path exists and is not a folder: {path}") from None
    except OSError as exc:
        raise DreamengineError(
            f"cannot write to output folder {path}: {exc.strerror or exc}"
        ) from None
    return path
