"""From produced pieces to the final data set: labels, de-duplication, splits and the summary.

Order matters and is deterministic: labels (keyword table for real items), then exact and
envelope de-duplication across all sources in build order (the first copy wins), then a bound on
plain ``other`` clips, then a train/val split BY GROUP (one source recording never straddles
splits), stratified by each group's rarest label and real/synthetic, ~``VAL_FRACTION`` to val.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from items import Item, Stored
from keywords import ALL_LABELS, match

VAL_FRACTION = 0.2
OTHER_MAX = 1400  # groups labelled only "other" kept (round-robin over packages)
SEED = "dreamengine-sound-2026"


@dataclass(frozen=True)
class Entry:
    """One item with its resolved labels, the rule that gave them and its kept pieces."""

    item: Item
    labels: tuple[str, ...]
    rule: str
    pieces: tuple[Stored, ...]


def _stable(text: str) -> str:
    return hashlib.sha1(f"{SEED}:{text}".encode()).hexdigest()


def resolve(item: Item, pieces: list[Stored]) -> Entry:
    """Labels from the keyword table (real) or the generator (synthetic)."""
    if item.labels is not None:
        return Entry(item, item.labels, item.source, tuple(pieces))
    labels, rule = match(item.source, item.name)
    return Entry(item, labels, rule, tuple(pieces))


def deduplicate(entries: list[Entry]) -> tuple[list[Entry], int]:
    """Drop pieces seen before (exact samples; for real clips also the loudness envelope)."""
    seen: set[str] = set()
    kept, dropped = [], 0
    for entry in entries:
        pieces = []
        for piece in entry.pieces:
            keys = {"x" + piece.exact} | ({"e" + piece.envelope} if entry.item.real else set())
            if keys & seen:
                dropped += 1
                continue
            seen |= keys
            pieces.append(piece)
        if pieces:
            kept.append(Entry(entry.item, entry.labels, entry.rule, tuple(pieces)))
    return kept, dropped


def bound_other(entries: list[Entry], limit: int = OTHER_MAX) -> list[Entry]:
    """Keep at most ``limit`` real items labelled only ``other``, spread over packages."""
    queues: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        if entry.labels == ("other",):
            queues[entry.item.source].append(entry)
    for queue in queues.values():
        queue.sort(key=lambda e: _stable(e.item.group))
    chosen: set[int] = set()
    while len(chosen) < limit and any(queues.values()):
        for queue in queues.values():
            if queue and len(chosen) < limit:
                chosen.add(id(queue.pop(0)))
    return [e for e in entries if e.labels != ("other",) or id(e) in chosen]


def assign_splits(entries: list[Entry], previous: dict[str, str] | None = None) -> dict[str, str]:
    """``{group: split}``: stratified by (rarest label, real) with a stable hash order.

    Groups in ``previous`` (the last build's ``{group: split}``) keep their split, so growing
    the data never moves a recording that a model was trained on into validation; only new
    groups are stratified.
    """
    previous = previous or {}
    group_labels: dict[str, set[str]] = defaultdict(set)
    group_real: dict[str, bool] = {}
    for entry in entries:
        if entry.item.split is None and entry.item.group not in previous:
            group_labels[entry.item.group] |= set(entry.labels)
            group_real[entry.item.group] = entry.item.real
    frequency = Counter(label for labels in group_labels.values() for label in labels)
    strata: dict[tuple[str, bool], list[str]] = defaultdict(list)
    for group, labels in group_labels.items():
        rarest = min(labels, key=lambda label: (frequency[label], label))
        strata[(rarest, group_real[group])].append(group)
    splits = {}
    for groups in strata.values():
        groups.sort(key=_stable)
        n_val = round(VAL_FRACTION * len(groups)) if len(groups) > 1 else 0
        splits.update({g: ("val" if i < n_val else "train") for i, g in enumerate(groups)})
    return {**previous, **splits}


def previous_splits(manifest: Path) -> dict[str, str]:
    """``{group: split}`` of an earlier build's ``manifest.jsonl`` (empty when there is none)."""
    if not manifest.is_file():
        return {}
    with open(manifest) as f:
        return {row["group"]: row["split"] for row in map(json.loads, f)
                if row["split"] in ("train", "val")}


def manifest_rows(entries: list[Entry], previous: dict[str, str] | None = None) -> list[dict]:
    """One JSON-ready row per piece, with its split (``previous`` groups keep theirs)."""
    splits = assign_splits(entries, previous)
    rows = []
    for entry in entries:
        item = entry.item
        split = item.split or splits[item.group]
        for piece in entry.pieces:
            rows.append({"path": piece.path, "labels": list(entry.labels), "split": split,
                         "real": item.real, "source": item.source, "group": item.group,
                         "seconds": piece.seconds, "licence": item.licence})  # fmt: skip
    paths = Counter(row["path"] for row in rows)
    clashes = [path for path, n in paths.items() if n > 1]
    if clashes:
        raise RuntimeError(f"{len(clashes)} clip paths are shared by two items, e.g. {clashes[0]}")
    return rows


def summarise(rows: list[dict]) -> dict:
    """Per-label clip counts by split and by real/synthetic, plus minutes."""
    per_label: dict[str, Counter] = {label: Counter() for label in ALL_LABELS}
    for row in rows:
        for label in row["labels"]:
            counts = per_label[label]
            counts[row["split"]] += 1
            counts["real" if row["real"] else "synthetic"] += 1
            counts["seconds"] += row["seconds"]
    by_split = Counter(row["split"] for row in rows)
    by_source = Counter(row["source"] for row in rows)
    minutes = sum(row["seconds"] for row in rows) / 60
    return {"clips": len(rows), "minutes": round(minutes, 1), "by_split": dict(by_split),
            "by_source": dict(by_source),
            "per_label": {k: {**dict(v), "seconds": round(v["seconds"], 1)}
                          for k, v in per_label.items()}}  # fmt: skip


def summary_table(summary: dict) -> str:
    """The per-label table printed at the end of the build."""
    head = f"{'label':<12}{'train':>7}{'val':>6}{'heldout':>8}{'real':>7}{'synth':>7}{'min':>7}"
    lines = [head, "-" * len(head)]
    for label, c in summary["per_label"].items():
        lines.append(f"{label:<12}{c.get('train', 0):>7}{c.get('val', 0):>6}"
                     f"{c.get('music_heldout', 0):>8}{c.get('real', 0):>7}"
                     f"{c.get('synthetic', 0):>7}{c['seconds'] / 60:>7.1f}")  # fmt: skip
    lines.append(f"total clips {summary['clips']}, {summary['minutes']} min, {summary['by_split']}")
    return "\n".join(lines)


def keyword_audit(entries: list[Entry]) -> dict:
    """How many real files each keyword rule matched (with examples), for a human to audit."""
    audit: dict[str, dict] = {}
    for entry in entries:
        if not entry.item.real:
            continue
        row = audit.setdefault(entry.rule, {"labels": list(entry.labels), "files": 0,
                                            "examples": []})  # fmt: skip
        row["files"] += 1
        if len(row["examples"]) < 8:
            row["examples"].append(f"{entry.item.source}: {entry.item.name}")
    return dict(sorted(audit.items(), key=lambda kv: -kv[1]["files"]))


def write_outputs(out: Path, rows: list[dict], summary: dict, audit: dict) -> None:
    """manifest.jsonl, summary.json and keyword_audit.json under ``out``."""
    with (out / "manifest.jsonl").open("w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "keyword_audit.json").write_text(json.dumps(audit, indent=2, ensure_ascii=False) + "\n")
