"""Build the image training set for the dream prior (G) and the condition classifier (C).

Run on demand, never in CI::

    .venv/bin/python priors/image/build_data.py --out data/image [--cache data/cache/image]

Steps: fetch + unpack the four allowed packages (fetch.py, with a deny-list for the reserved
evaluation sources) → list candidates (catalogue.py) → decode / rasterise / normalise each to a
128 px RGBA object, cached (raster.py) → drop perceptual-hash near-duplicates (dedupe.py) →
label by keyword table (labels.py), sample a bounded ``other`` → split per source picture,
stratified (report.py) → composite objects onto varied backgrounds → write ``manifest.jsonl``,
``summary.json``, ``audit/`` and ``sheets/CLASS.png``. Every step skips work already on disk, so
an interrupted build resumes; ``--force`` rewrites the output images.

Needs Debian ``librsvg2-bin`` (``rsvg-convert``), ``apt-get`` and ``npm`` on the PATH.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

from catalogue import NOTO_FONT, Item, all_items
from dedupe import find_duplicates, phash
from fetch import fetch_all
from labels import Labeller, other_eligible
from PIL import Image
from raster import NORMALISE_VERSION, background, load, normalise, to_rgb
from report import (
    assign_splits,
    format_table,
    manifest_lines,
    summarise,
    write_jsonl,
    write_sheets,
)

OTHER_MAX = 200  # source pictures sampled into `other`
VARIANTS = 2  # background variants stored per clip-art picture (photos: 1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data/image"))
    parser.add_argument("--cache", type=Path, default=Path("data/cache/image"))
    parser.add_argument("--variants", type=int, default=VARIANTS)
    parser.add_argument("--other-max", type=int, default=OTHER_MAX)
    parser.add_argument("--force", action="store_true", help="rewrite output images")
    return parser.parse_args(argv)


class Progress:
    """Prints ``stage i/n`` lines at most every couple of seconds."""

    def __init__(self, stage: str, total: int) -> None:
        self.stage, self.total, self.start, self.last = stage, total, time.time(), 0.0

    def tick(self, i: int) -> None:
        now = time.time()
        if now - self.last > 2.0 or i == self.total:
            print(f"[{self.stage}] {i}/{self.total} ({now - self.start:.0f} s)", flush=True)
            self.last = now


def normalised_object(item: Item, objects: Path, font_path: str) -> tuple[Path, bool] | None:
    """Cached 128 px RGBA object for one item and whether it is a photo; None if undecodable."""
    png, meta = objects / f"{item.uid}.png", objects / f"{item.uid}.json"
    if png.exists() and meta.exists():
        return png, json.loads(meta.read_text())["photo"]
    try:
        obj, photo = normalise(load(item, font_path))
    except Exception as exc:  # a broken asset must not stop the build
        print(f"[normalise] skip {item.name}: {exc}", file=sys.stderr)
        return None
    obj.save(png)
    meta.write_text(json.dumps({"photo": photo}))
    return png, photo


def normalise_all(items: list[Item], cache: Path, font_path: str) -> list[dict]:
    objects = cache / f"objects-v{NORMALISE_VERSION}"
    objects.mkdir(parents=True, exist_ok=True)
    progress, records = Progress("normalise", len(items)), []
    for i, item in enumerate(items, 1):
        got = normalised_object(item, objects, font_path)
        if got:
            records.append({
                "item": item, "object": got[0], "photo": got[1], "uid": item.uid,
                "source": item.source, "name": item.name, "licence": item.licence,
            })  # fmt: skip
        progress.tick(i)
    return records


def drop_duplicates(records: list[dict], audit: Path) -> list[dict]:
    hashes = []
    for record in records:
        with Image.open(record["object"]) as obj:
            hashes.append(phash(obj))
    dupes = find_duplicates(hashes)
    pairs = [[records[i]["item"].name, records[j]["item"].name] for i, j in dupes.items()]
    (audit / "duplicates.json").write_text(json.dumps(pairs, indent=1))
    print(f"[dedupe] {len(dupes)} near-duplicates dropped of {len(records)}", flush=True)
    return [r for i, r in enumerate(records) if i not in dupes]


def label_all(records: list[dict], other_max: int, audit: Path) -> None:
    """Set ``record["label"]``; unlabelled stay None except a bounded ``other`` sample."""
    labeller = Labeller()
    for record in records:
        item = record["item"]
        record["label"] = labeller.label(item.text, item.name)
    pick_other(records, other_max)
    members: dict[str, list[str]] = {}
    for record in records:
        members.setdefault(str(record["label"]), []).append(record["item"].name)
    report = {"hits": dict(sorted(labeller.hits.items())), "vetoed": dict(labeller.vetoed),
              "members": members}  # fmt: skip
    (audit / "labels.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    for key, n in sorted(labeller.hits.items()):
        print(f"[label] {key:<40} {n}")


def pick_other(records: list[dict], other_max: int) -> None:
    """Round-robin over (source, group) buckets, hash-ordered, up to ``other_max`` pictures."""
    buckets: dict[str, list[dict]] = {}
    for record in records:
        item = record["item"]
        if record["label"] is None and other_eligible(item.text):
            buckets.setdefault(f"{item.source}/{item.group}", []).append(record)
    queues = [
        sorted(b, key=lambda r: hashlib.sha1(r["item"].uid.encode()).hexdigest())
        for _, b in sorted(buckets.items())
    ]
    taken = 0
    while taken < other_max and any(queues):
        for queue in queues:
            if queue and taken < other_max:
                queue.pop(0)["label"] = "other"
                taken += 1


def write_images(records: list[dict], out: Path, variants: int, force: bool) -> None:
    """Store each RGBA object and its composited RGB variants; fill the manifest fields."""
    for sub in ("rgb", "rgba"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    progress = Progress("composite", len(records))
    for i, record in enumerate(records, 1):
        _write_record(record, out, variants, force)
        progress.tick(i)


def _write_record(record: dict, out: Path, variants: int, force: bool) -> None:
    item = record["item"]
    n = 1 if record["photo"] else variants
    record["rgba"] = None if record["photo"] else f"rgba/{item.uid}.png"
    record["rgb"] = [f"rgb/{item.uid}_v{k}.png" for k in range(n)]
    todo = [p for p in record["rgb"] + [record["rgba"]] if p and (force or not (out / p).exists())]
    if not todo:
        return
    with Image.open(record["object"]) as obj:
        obj = obj.convert("RGBA")
        if record["rgba"]:
            obj.save(out / record["rgba"])
        for k, path in enumerate(record["rgb"]):
            bg = background(f"{item.uid}/{k}")
            (obj.convert("RGB") if record["photo"] else to_rgb(obj, bg)).save(out / path)


def remove_stale(out: Path, records: list[dict]) -> None:
    """Delete stored images no record refers to (labels or dedup changed since last run)."""
    keep = {p for r in records for p in r["rgb"] + [r["rgba"]] if p}
    stale = [p for sub in ("rgb", "rgba") for p in (out / sub).glob("*.png")
             if f"{sub}/{p.name}" not in keep]  # fmt: skip
    for path in stale:
        path.unlink()
    if stale:
        print(f"[clean] removed {len(stale)} stale images", flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    start = time.time()
    audit = args.out / "audit"
    audit.mkdir(parents=True, exist_ok=True)
    sources = fetch_all(args.cache)
    items = all_items(sources)
    print(f"[catalogue] {len(items)} candidates", flush=True)
    font_path = str(sources["fonts-noto-color-emoji"].root / NOTO_FONT)
    records = drop_duplicates(normalise_all(items, args.cache, font_path), audit)
    label_all(records, args.other_max, audit)
    assign_splits(records)
    write_images(records, args.out, args.variants, args.force)
    remove_stale(args.out, records)
    rows = manifest_lines(records)
    write_jsonl(args.out / "manifest.jsonl", rows)
    summary = summarise(records, rows)
    summary["versions"] = {name: u.version for name, u in sources.items()}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    write_sheets(args.out, records)
    print(format_table(summary))
    print(f"[done] {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
