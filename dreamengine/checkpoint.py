"""Checkpoint files: ``{state_dict, config, meta}`` dicts, written atomically, loaded safely.

Loading always uses ``weights_only=True``; any failure to read or rebuild becomes a
:class:`DreamengineError` that names the file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch

from dreamengine.errors import DreamengineError
from dreamengine.filemode import usual_file_mode

M = TypeVar("M")


def save_checkpoint(payload: dict[str, Any], path: Path) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), usual_file_mode())  # not mkstemp's 0600
            torch.save(payload, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: Path, what: str, build: Callable[[dict[str, Any]], M]) -> M:
    """Read ``path`` and rebuild it with ``build(checkpoint_dict)``; ``what`` names it in errors."""
    path = Path(path)
    if not path.is_file():
        raise DreamengineError(f"{what} not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(ckpt, dict) or not {"state_dict", "config"} <= ckpt.keys():
            raise ValueError("not a {state_dict, config, meta} checkpoint")
        return build(ckpt)
    except Exception as exc:  # unpickling alone raises a dozen exception types
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = " ".join(lines[:2]) or type(exc).__name__  # torch names the keys on line 2
        if len(detail) > 300:
            detail = detail[:297] + "..."
        raise DreamengineError(
            f"{what} {path} is corrupt or does not match its config: {detail}"
        ) from None
