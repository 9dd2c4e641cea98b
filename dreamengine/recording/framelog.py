"""``frames.jsonl``: one JSON object per written frame, appended and flushed line by line."""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """Plain JSON types. Python floats stay exact (``replay`` reads them back bit for bit);
    numpy float32 values, which carry ~7 digits anyway, are rounded to 6 decimals."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.floating):
        return round(float(value), 6)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist() if value.dtype != np.float32 else list(value))
    return value


class FrameLog:
    """Appends records to ``DIR/frames.jsonl``; each line is complete once written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.lines = 0

    def write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(jsonable(record), separators=(",", ":")) + "\n")
        self._file.flush()
        self.lines += 1

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> FrameLog:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
