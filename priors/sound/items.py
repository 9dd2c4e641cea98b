"""The unit of work of the sound build: one source recording (or one synthetic render).

An ``Item`` knows how to ``produce`` its cleaned pieces; the build writes them once and records
the result in ``OUT/parts/SOURCE.jsonl``, so a re-run skips every item already done. Real items
carry the ``name`` the keyword table labels (labels are applied when the manifest is written, so
fixing the table needs no re-decoding); synthetic items carry fixed ``labels``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from clips import Piece, write_wav


@dataclass(frozen=True)
class Item:
    """One recording: ``item_id`` is unique within ``source``; ``group`` decides the split."""

    item_id: str
    source: str
    real: bool
    group: str
    licence: str
    produce: Callable[[], list[Piece]] = field(compare=False, repr=False)
    name: str = ""
    labels: tuple[str, ...] | None = None
    split: str | None = None  # forced split (the held-out music set), else decided by group


@dataclass(frozen=True)
class Stored:
    """A written piece: path relative to OUT, its length and its two de-duplication hashes."""

    path: str
    seconds: float
    exact: str
    envelope: str


UNUSED = "unused"


def _safe(text: str) -> str:
    """A file-name-safe version of an id (ids are unique; long ones keep their tail)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[-150:]


def _load_parts(path: Path) -> dict[str, list[Stored]]:
    done: dict[str, list[Stored]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                done[rec["id"]] = [Stored(**p) for p in rec["pieces"]]
    return done


def _complete(stored: list[Stored] | None, out: Path) -> bool:
    """True when an item was produced before and all its files are still on disk.

    A file the last manifest did not use lives under ``OUT/unused/`` (see ``park_unused``).
    """
    if stored is None:
        return False
    return all((out / s.path).exists() or (out / UNUSED / s.path).exists() for s in stored)


def _store(item: Item, pieces: list[Piece], out: Path) -> list[Stored]:
    stem = _safe(item.item_id)
    stored = []
    for k, piece in enumerate(pieces):
        rel = f"clips/{_safe(item.source)}/{stem}__{k:02d}.wav"
        write_wav(out / rel, piece)
        stored.append(Stored(rel, round(piece.seconds, 3), piece.exact_hash, piece.envelope_hash))
    return stored


def run_items(source: str, items: Iterable[Item], out: Path) -> dict[str, list[Stored]]:
    """Produce and write every item of one source not done yet; return ``{item_id: pieces}``."""
    items = list(items)
    parts_path = out / "parts" / f"{_safe(source)}.jsonl"
    parts_path.parent.mkdir(parents=True, exist_ok=True)
    done = _load_parts(parts_path)
    todo = [item for item in items if not _complete(done.get(item.item_id), out)]
    print(f"[{source}] {len(items)} items, {len(items) - len(todo)} already done", flush=True)
    start = time.monotonic()
    with parts_path.open("a") as log:
        for i, item in enumerate(todo, 1):
            try:
                stored = _store(item, item.produce(), out)
            except Exception as err:  # one unreadable file must not stop the build
                print(f"  ! {item.item_id}: {type(err).__name__}: {err}", flush=True)
                stored = []
            done[item.item_id] = stored
            pieces = [s.__dict__ for s in stored]
            log.write(json.dumps({"id": item.item_id, "pieces": pieces}) + "\n")
            log.flush()
            if i % 200 == 0 or i == len(todo):
                rate = i / max(time.monotonic() - start, 1e-6)
                print(f"  [{source}] {i}/{len(todo)} ({rate:.1f} items/s)", flush=True)
    return {item.item_id: done[item.item_id] for item in items}


def park_unused(out: Path, used: set[str], stored: Iterable[Stored]) -> int:
    """Move clips the manifest does not use to ``OUT/unused/`` and bring back used ones.

    Keeps ``clips/`` equal to the manifest while a re-run still finds every produced file.
    Returns how many files are parked.
    """
    parked = 0
    for piece in stored:
        live, spare = out / piece.path, out / UNUSED / piece.path
        if piece.path in used and spare.exists() and not live.exists():
            spare.replace(live)
        elif piece.path not in used and live.exists():
            spare.parent.mkdir(parents=True, exist_ok=True)
            live.replace(spare)
        parked += piece.path not in used
    return parked
