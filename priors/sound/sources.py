"""Real recordings from the allowed Debian packages, as build ``Item`` s.

Loose audio files are found by extension; gcompris-qt-data's sounds come out of its Qt ``.rcc``
resources and openttd-opensfx's out of ``opensfx.cat`` (whose entry titles carry their own
licences). Spoken material is bounded and language-diverse: tuxpaint's spoken stamp
descriptions (``*_desc_LANG.ogg``) and ktuberling's spoken words are sampled round-robin over
languages, at most ``TUXPAINT_SPEECH_MAX`` and ``KTUBERLING_SPEECH_MAX``.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import debs
from clips import Piece, decode, make_pieces
from containers import read_opensfx_cat, read_rcc
from items import Item

AUDIO_EXT = (".ogg", ".wav", ".opus", ".flac", ".mp3")
TUXPAINT_SPEECH_MAX = 1500
KTUBERLING_SPEECH_MAX = 600
#: Used when a package's copyright file has no machine-readable ``Files: *`` paragraph.
FALLBACK_LICENCE = {
    "tuxpaint-stamps-default": "GPL-2",
    "wesnoth-1.16-data": "GPL-2+",
    "megaglest-data": "CC-BY-SA-3.0",
    "openttd-opensfx": "CC-BY-SA-3.0",
}


def _stable(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _file_producer(path: Path):
    def produce() -> list[Piece]:
        return make_pieces(*decode(path))

    return produce


def _bytes_producer(blob: bytes):
    def produce() -> list[Piece]:
        return make_pieces(*decode(blob))

    return produce


class PackageLicences:
    """Per-file licence lookup for one unpacked package."""

    def __init__(self, root: Path, name: str) -> None:
        self.rules = debs.read_copyright(root, name)
        star = [r.licence for r in self.rules if "*" in r.globs]
        self.default = star[0] if star else FALLBACK_LICENCE.get(name, "see copyright")

    def __call__(self, inner: str) -> str:
        return debs.licence_for(self.rules, inner, self.default)


def _loose_files(name: str, root: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in AUDIO_EXT and path.is_file():
            yield str(path.relative_to(root)), path


def _round_robin(by_lang: dict[str, list[str]], limit: int) -> list[str]:
    """Take one item per language in turn (each language shuffled by a stable hash)."""
    queues = {k: sorted(v, key=_stable) for k, v in sorted(by_lang.items())}
    chosen: list[str] = []
    while len(chosen) < limit and any(queues.values()):
        for queue in queues.values():
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return chosen


def _speech_subset(inner_paths: list[str], lang_of, limit: int) -> set[str]:
    by_lang: dict[str, list[str]] = defaultdict(list)
    for inner in inner_paths:
        by_lang[lang_of(inner)].append(inner)
    return set(_round_robin(by_lang, limit))


def _tuxpaint_lang(inner: str) -> str:
    found = re.search(r"_desc_?([A-Za-z@_]*)\.\w+$", inner)
    return (found.group(1) or "en") if found else "en"


def loose_items(name: str, root: Path) -> list[Item]:
    """Items for every audio file in an unpacked package (speech sets bounded)."""
    licence = PackageLicences(root, name)
    files = dict(_loose_files(name, root))
    keep = set(files)
    if name == "tuxpaint-stamps-default":
        desc = [p for p in files if "_desc" in p]
        keep -= set(desc) - _speech_subset(desc, _tuxpaint_lang, TUXPAINT_SPEECH_MAX)
    if name == "ktuberling-data":
        keep = _speech_subset(list(files), lambda p: p.split("/")[-2], KTUBERLING_SPEECH_MAX)
    return [
        Item(inner, name, True, f"{name}:{inner}", licence(inner), _file_producer(files[inner]),
             name=inner)
        for inner in sorted(keep)
    ]  # fmt: skip


def gcompris_items(root: Path) -> list[Item]:
    """Items for the sound files inside gcompris-qt-data's ``.rcc`` resources."""
    name = "gcompris-qt-data"
    licence = PackageLicences(root, name)
    found = []
    for rcc in sorted(root.rglob("*.rcc")):
        for inner, blob in read_rcc(rcc):
            if inner.lower().endswith(AUDIO_EXT):
                item_id = f"{rcc.name}/{inner}"
                found.append(Item(item_id, name, True, f"{name}:{item_id}", licence(inner),
                                  _bytes_producer(blob), name=inner))  # fmt: skip
    return found


def _opensfx_licence(title: str) -> str:
    found = re.search(r"License: ([^.]+(?:\.\d[^.]*)?)", title)
    return found.group(1).strip() if found else "CC-BY-SA-3.0"


def opensfx_items(root: Path) -> list[Item]:
    """Items for each sample in openttd-opensfx's ``opensfx.cat`` (the title is the name)."""
    name = "openttd-opensfx"
    found = []
    for cat in sorted(root.rglob("*.cat")):
        for i, (title, blob) in enumerate(read_opensfx_cat(cat)):
            label_text = title.split(". Original")[0].split(". By ")[0]
            item_id = f"{i:03d}_{label_text}"
            found.append(Item(item_id, name, True, f"{name}:{i:03d}", _opensfx_licence(title),
                              _bytes_producer(blob), name=label_text))  # fmt: skip
    return found


def package_items(name: str, cache: Path) -> list[Item]:
    """All candidate items of one allowed package (downloading/unpacking it if needed)."""
    root = debs.unpack(name, cache)
    if name == "gcompris-qt-data":
        return gcompris_items(root)
    if name == "openttd-opensfx":
        return opensfx_items(root)
    return loose_items(name, root)
