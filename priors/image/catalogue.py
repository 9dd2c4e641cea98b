"""List the candidate images in each unpacked source as small immutable :class:`Item` records.

Nothing is decoded here; an item carries how to load it (``loader``) and the text its label is
derived from (``text``: emoji names and categories, stamp folders and file names, GCompris
activity folders and file names). Source-level filtering happens here too: Noto skin-tone variants
and country/subdivision flags are dropped, as are tuxpaint letter/digit stamps and GCompris UI
parts, map pieces and painting-puzzle fragments (only allow-listed GCompris folders are read).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fetch import Dep5Licences, Unpacked, check_allowed
from rcc import RccFile

NOTO_FONT = "usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
TUX_STAMPS = "usr/share/tuxpaint/stamps"
GC_RCC = "usr/share/gcompris-qt/rcc"
EMOJI_LICENCE = "Apache-2.0 (Noto Emoji art); emoji.json MIT"
FONT_LICENCE = "OFL-1.1 (font) / Apache-2.0 (Noto Emoji art)"

# Flags kept from ~270: the non-country ones (subcategory "flag"), e.g. chequered, pirate.
KEEP_FLAG_SUBCATEGORIES = ("flag",)
TUX_SKIP_DIRS = ("symbols/alphabets", "symbols/math", "symbols/money")

# GCompris: folders whose pictures are whole objects or scenes (photos or clip art).
GC_PHOTO_DIRS = (
    "erase/resource", "clickgame/resource", "categorization/resource/images/tools",
    "categorization/resource/images/renewable", "categorization/resource/images/fishes",
    "categorization/resource/images/monuments", "categorization/resource/images/others",
    "explore_farm_animals/resource/animals", "explore_world_animals/resource/animals",
    "explore_world_music/resource/music", "explore_monuments/resource",
    "lang/resource/words_sample",
    "solar_system/resource", "leftright/resource", "louis-braille/resource", "gravity/resource",
    "details/resource/image", "babyshapes/resource/image",
)  # fmt: skip
GC_SVG_DIRS = (
    "advanced_colors/resource", "algorithm/resource", "babymatch/resource/images",
    "babyshapes/resource/food", "ballcatch/resource", "canal_lock/resource",
    "chronos/resource/images", "click_on_letter/resource", "colors/resource",
    "enumerate/resource", "explore_farm_animals/resource/animals", "family/resource",
    "followline/resource", "gnumch-equality/resource", "instruments/resource",
    "land_safe/resource", "left_right_click/resource", "memory/resource", "mosaic/resource",
    "planegame/resource", "railroad/resource", "submarine/resource", "traffic/resource",
    "watercycle/resource", "renewable_energy/resource/wind", "hexagon/resource",
    "memory-sound/resource", "melody/resource", "positions/resource", "share/resource/images",
    "fifteen/resource", "photo_hunter/resource", "resource/bonus",
)  # fmt: skip
GC_SKIP_NAME = re.compile(
    r"(background|(^|[-_])bg$|border|^landing|^xylofon|^car([4-9]|1\d)$|arrow|button|^score_|"
    r"^mask|^case|^bar_|frame|^t_|question|suitcase|"
    r"error|^win\d|^dice|^digital_dice|^pencils?_?paper|oil_paint|^photo\d+_\d|_bad$|"
    r"^(on|off)$|^(sky|sea|river|landscape|city)$|^emptycard|^backcard|^chart|^braille|"
    r"_hit$|^rudder|^vanne|^board|^(up|down)$|^wrong|^key$|^(cloud_quiet|blade|mast)$|"
    r"^xylofon_part|^(wind_off|wind_on|wind_power_(on|off))$)",
    re.I,
)
# Painting-puzzle activities: keep only the whole picture, not the pieces.
GC_WHOLE_ONLY = ("details/resource/image", "babyshapes/resource/image")


@dataclass(frozen=True)
class Item:
    """One candidate source image.

    ``loader`` is ``("font", text, png_fallback)``, ``("file", path)`` or
    ``("rcc", rcc_path, inner_path)``; ``kind`` is the file format (png, svg, webp, glyph).
    ``text`` is what labelling matches against; ``group`` is the audit bucket
    (emoji category, stamp folder, GCompris activity).
    """

    uid: str
    source: str
    name: str
    licence: str
    text: str
    group: str
    kind: str
    loader: tuple


def slug(text: str) -> str:
    """Filesystem-safe id: readable prefix plus a short hash, so distinct paths never collide."""
    base = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[-60:]
    return f"{base}_{hashlib.sha1(text.encode()).hexdigest()[:6]}"


def emoji_items(npm: Unpacked, font: Unpacked) -> Iterator[Item]:
    """Base Noto emoji (no skin-tone variants, no country flags), rendered from the font."""
    png_dir = npm.root / "img" / "google" / "64"
    for entry in json.loads((npm.root / "emoji.json").read_text(encoding="utf-8")):
        if not _keep_emoji(entry):
            continue
        chars = "".join(chr(int(cp, 16)) for cp in entry["unified"].split("-"))
        names = " ".join([entry.get("name") or ""] + entry["short_names"])
        yield Item(
            uid="noto-" + entry["unified"].lower(),
            source=font.package,
            name=entry["short_name"],
            licence=FONT_LICENCE,
            text=f"{names} | {entry['subcategory']}",
            group=f"{entry['category']}/{entry['subcategory']}",
            kind="glyph",
            loader=("font", chars, str(png_dir / entry["image"])),
        )


def _keep_emoji(entry: dict) -> bool:
    if not entry.get("has_img_google", True) or entry["category"] == "Component":
        return False
    if entry["category"] == "Flags":
        return entry["subcategory"] in KEEP_FLAG_SUBCATEGORIES
    return True


def tuxpaint_items(tux: Unpacked) -> Iterator[Item]:
    """Tux Paint stamps; where a stamp exists as both SVG and PNG, the SVG is taken."""
    stamps = tux.root / TUX_STAMPS
    chosen: dict[tuple[str, str], Path] = {}
    for path in sorted(stamps.rglob("*")):
        rel = path.relative_to(stamps)
        if path.suffix not in (".png", ".svg") or str(rel).startswith(TUX_SKIP_DIRS):
            continue
        if path.stem.endswith(("_mirror", "_flip")):  # mirrored copies of another stamp
            continue
        key = (str(rel.parent), path.stem)
        if key not in chosen or path.suffix == ".svg":
            chosen[key] = path
    for (folder, stem), path in sorted(chosen.items()):
        yield Item(
            uid="tux-" + slug(f"{folder}/{stem}"),
            source=tux.package,
            name=f"{folder}/{path.name}",
            licence="GPL-2",
            text=f"{stem} | {folder}",
            group=folder.split("/")[0],
            kind=path.suffix[1:],
            loader=("file", str(check_allowed(path))),
        )


def gcompris_items(gc: Unpacked) -> Iterator[Item]:
    """Photos (WebP) and clip art (SVG) from allow-listed GCompris activity folders."""
    licences = Dep5Licences.read(
        gc.root / "usr/share/doc/gcompris-qt-data/copyright", strip_prefix="/gcompris/"
    )
    for rcc_path in sorted((gc.root / GC_RCC).glob("*.rcc")):
        for inner in RccFile.open(rcc_path).paths():
            item = _gcompris_item(gc, rcc_path, inner, licences)
            if item is not None:
                yield item


def _gcompris_item(gc: Unpacked, rcc_path: Path, inner: str, licences) -> Item | None:
    rel = inner.removeprefix("/gcompris/src/activities/").removeprefix("/gcompris/src/core/")
    folder, _, filename = rel.rpartition("/")
    stem, _, ext = filename.rpartition(".")
    if not _gcompris_wanted(folder, stem, ext.lower()):
        return None
    activity = folder.split("/")[0]
    return Item(
        uid="gc-" + slug(rel),
        source=gc.package,
        name=inner,
        licence=licences.lookup(inner),
        text=f"{stem} | {folder}",
        group=activity,
        kind=ext.lower(),
        loader=("rcc", str(rcc_path), inner),
    )


def _gcompris_wanted(folder: str, stem: str, ext: str) -> bool:
    if ext == "webp":
        if folder.startswith(GC_WHOLE_ONLY):
            return stem.endswith("_background")
        return folder.startswith(GC_PHOTO_DIRS)
    if ext == "svg" and folder.startswith(GC_SVG_DIRS):
        return not GC_SKIP_NAME.search(stem)
    return False


def all_items(sources: dict[str, Unpacked]) -> list[Item]:
    """Every candidate, in dedup priority order (Noto, then tuxpaint, then GCompris)."""
    items = list(emoji_items(sources["emoji-datasource-google"], sources["fonts-noto-color-emoji"]))
    items += tuxpaint_items(sources["tuxpaint-stamps-default"])
    items += gcompris_items(sources["gcompris-qt-data"])
    uids = [item.uid for item in items]
    assert len(set(uids)) == len(uids), "item ids must be unique"
    return items
