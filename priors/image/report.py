"""Split assignment, manifest, summary table and per-class contact sheets.

Splits are made per source image (a record), so every background variant of one picture lands
in the same split. Within each class (unlabelled counted as its own stratum) records are ordered
by a hash of their id and the first ~15 % go to ``val``: deterministic, and stable when other
records come or go.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

from labels import LABELS
from PIL import Image, ImageDraw, ImageFont

VAL_FRACTION = 0.15
SHEET_COLS, SHEET_MAX = 8, 48
THUMB, CAPTION = 128, 14  # px


def _order(uid: str) -> str:
    return hashlib.sha1(f"split:{uid}".encode()).hexdigest()


def assign_splits(records: list[dict], val_fraction: float = VAL_FRACTION) -> None:
    """Set ``record["split"]`` in place, stratified by label."""
    strata: dict[str | None, list[dict]] = {}
    for record in records:
        strata.setdefault(record["label"], []).append(record)
    for members in strata.values():
        members.sort(key=lambda r: _order(r["uid"]))
        n_val = round(val_fraction * len(members))
        if n_val == 0 and len(members) >= 3:
            n_val = 1
        for i, record in enumerate(members):
            record["split"] = "val" if i < n_val else "train"


def manifest_lines(records: list[dict]) -> list[dict]:
    """One manifest row per stored RGB image (each background variant of each record)."""
    rows = []
    for record in sorted(records, key=lambda r: r["uid"]):
        for variant, path in enumerate(record["rgb"]):
            rows.append({
                "path": path, "label": record["label"], "split": record["split"],
                "source": record["source"], "name": record["name"], "licence": record["licence"],
                "group": record["uid"], "variant": variant, "rgba": record["rgba"],
                "photo": record["photo"],
            })  # fmt: skip
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)


def summarise(records: list[dict], rows: list[dict]) -> dict:
    """Per-class counts of source pictures and of stored images, per split."""
    keys = [*LABELS, None]
    pictures = Counter((r["label"], r["split"]) for r in records)
    images = Counter((r["label"], r["split"]) for r in rows)
    per_class = {
        str(k) if k else "null": {
            "train": pictures[k, "train"], "val": pictures[k, "val"],
            "train_images": images[k, "train"], "val_images": images[k, "val"],
        }
        for k in keys
    }  # fmt: skip
    sources = Counter(r["source"] for r in records)
    return {"classes": per_class, "pictures": len(records), "images": len(rows),
            "by_source": dict(sources)}  # fmt: skip


def format_table(summary: dict) -> str:
    """Plain-text table of the summary (source pictures; stored images in brackets)."""
    lines = [f"{'class':<12} {'train':>6} {'val':>5}   {'train img':>9} {'val img':>7}"]
    for label, c in summary["classes"].items():
        lines.append(
            f"{label:<12} {c['train']:>6} {c['val']:>5}   {c['train_images']:>9} "
            f"{c['val_images']:>7}"
        )
    lines.append(f"total: {summary['pictures']} source pictures, {summary['images']} images")
    lines.append("by source: " + ", ".join(f"{k} {v}" for k, v in summary["by_source"].items()))
    return "\n".join(lines)


def contact_sheet(out_dir: Path, records: list[dict], path: Path, limit: int = SHEET_MAX) -> None:
    """Grid of up to ``limit`` first-variant thumbnails with their names, for checking by eye."""
    chosen = sorted(records, key=lambda r: _order("sheet" + r["uid"]))[:limit]
    rows = max(1, -(-len(chosen) // SHEET_COLS))
    sheet = Image.new("RGB", (SHEET_COLS * THUMB, rows * (THUMB + CAPTION)), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for i, record in enumerate(chosen):
        x, y = (i % SHEET_COLS) * THUMB, (i // SHEET_COLS) * (THUMB + CAPTION)
        with Image.open(out_dir / record["rgb"][0]) as thumb:
            sheet.paste(thumb.convert("RGB").resize((THUMB, THUMB)), (x, y))
        caption = record["name"].rsplit("/", 1)[-1][:21]
        draw.text((x + 2, y + THUMB + 1), caption, fill="black", font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)


def write_sheets(out_dir: Path, records: list[dict]) -> None:
    """One sheet per class under ``sheets/``, plus ``_unlabelled.png`` for the rest."""
    for old in (out_dir / "sheets").glob("*.png"):
        old.unlink()
    for label in [*LABELS, None]:
        members = [r for r in records if r["label"] == label]
        if members:
            name = label or "_unlabelled"
            contact_sheet(out_dir, members, out_dir / "sheets" / f"{name}.png")
