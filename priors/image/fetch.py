"""Fetch and unpack the allowed image packages, and look up per-file licences.

Only four packages may feed the image training set (see DESIGN.md, "Data we may train on"):
npm ``emoji-datasource-google`` and Debian ``fonts-noto-color-emoji``,
``tuxpaint-stamps-default`` and ``gcompris-qt-data``. The evaluation sources are reserved, so
every fetch and every path we read goes through :func:`check_allowed`, which refuses them.
Downloads use the ordinary clients (``apt-get download``, ``npm pack``) into the cache dir and
are unpacked once (``dpkg -x`` / ``tar``); a marker file makes both steps idempotent.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

DEBIAN_PACKAGES = ("fonts-noto-color-emoji", "tuxpaint-stamps-default", "gcompris-qt-data")
NPM_PACKAGES = ("emoji-datasource-google",)
ALLOWED = frozenset(DEBIAN_PACKAGES + NPM_PACKAGES)

# Reserved for independent evaluation: never download, never read (DESIGN.md).
DENIED = (
    "emoji-datasource-twitter",
    "@twemoji/svg",
    "twemoji",
    "openmoji",
    "0ad-data",
    "supertuxkart-data",
    "hedgewars-data",
    "flightgear-data-base",
    "torcs-data",
    "timgm6mb-soundfont",
    "musescore-general-soundfont",
)


class DeniedSourceError(RuntimeError):
    """Raised when code tries to touch a reserved evaluation source."""


def check_allowed(name: str) -> str:
    """Return ``name`` if it is an allowed package or a path inside one; raise otherwise.

    The deny-list check comes first and matches substrings, so
    ``musescore-general-soundfont-small`` or a path under ``.../openmoji/...`` is refused too.
    """
    lowered = str(name).lower()
    for denied in DENIED:
        if denied in lowered:
            raise DeniedSourceError(f"{name!r} is reserved for evaluation ({denied})")
    return name


@dataclass(frozen=True)
class Unpacked:
    """Where one package was unpacked, and its version."""

    package: str
    version: str
    root: Path


def _run(cmd: list[str], cwd: Path) -> str:
    done = subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


def fetch_debian(package: str, cache: Path) -> Unpacked:
    """``apt-get download`` one package into ``cache/dl`` and ``dpkg -x`` it (once)."""
    check_allowed(package)
    dl = cache / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    debs = sorted(dl.glob(f"{package}_*.deb"))
    if not debs:
        print(f"[fetch] apt-get download {package}", flush=True)
        _run(["apt-get", "download", package], dl)
        debs = sorted(dl.glob(f"{package}_*.deb"))
    deb = debs[-1]
    version = deb.name.split("_")[1]
    root = (cache / "x" / deb.stem).resolve()
    if not (root / ".unpacked").exists():
        root.mkdir(parents=True, exist_ok=True)
        _run(["dpkg", "-x", str(deb.resolve()), str(root)], cache)
        (root / ".unpacked").touch()
    return Unpacked(package, version, root)


def fetch_npm(package: str, cache: Path) -> Unpacked:
    """``npm pack`` one package into ``cache/dl`` and untar it (once)."""
    check_allowed(package)
    dl = cache / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    tgzs = sorted(dl.glob(f"{package}-[0-9]*.tgz"))
    if not tgzs:
        print(f"[fetch] npm pack {package}", flush=True)
        _run(["npm", "pack", package], dl)
        tgzs = sorted(dl.glob(f"{package}-[0-9]*.tgz"))
    tgz = tgzs[-1]
    version = tgz.name[len(package) + 1 : -len(".tgz")]
    root = cache / "x" / "npm" / tgz.name[: -len(".tgz")]
    if not (root / ".unpacked").exists():
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tgz) as tar:
            tar.extractall(root, filter="data")
        (root / ".unpacked").touch()
    return Unpacked(package, version, root / "package")


def fetch_all(cache: Path) -> dict[str, Unpacked]:
    """Fetch and unpack every allowed package; return them by package name."""
    got = {name: fetch_debian(name, cache) for name in DEBIAN_PACKAGES}
    got.update({name: fetch_npm(name, cache) for name in NPM_PACKAGES})
    return got


class Dep5Licences:
    """Per-file licence lookup in a Debian machine-readable ``copyright`` file.

    Stanzas are ``Files:`` globs with a ``License:`` line; the last matching stanza wins, as the
    DEP-5 spec says. GCompris converts PNG/JPEG sources to WebP inside its ``.rcc`` files, so a
    path is also tried with its extension swapped.
    """

    def __init__(self, text: str, strip_prefix: str = "") -> None:
        self.rules = list(_dep5_rules(text))
        self.strip_prefix = strip_prefix

    @classmethod
    def read(cls, path: Path, strip_prefix: str = "") -> Dep5Licences:
        return cls(Path(path).read_text(encoding="utf-8"), strip_prefix)

    def lookup(self, path: str) -> str:
        rel = path.removeprefix(self.strip_prefix).lstrip("/")
        stem = re.sub(r"\.[A-Za-z0-9]+$", "", rel)
        variants = [rel] + [stem + ext for ext in (".png", ".jpg", ".jpeg", ".svg", ".webp")]
        found = "unknown"
        for globs, licence in self.rules:
            if any(fnmatch.fnmatchcase(v, g) for g in globs for v in variants):
                found = licence
        return found


def _dep5_rules(text: str):
    """Yield ``(globs, licence)`` for each ``Files:`` stanza of a DEP-5 file."""
    for stanza in re.split(r"\n\s*\n", text):
        files = re.search(r"^Files:(.*(?:\n[ \t]+\S.*)*)", stanza, re.M)
        licence = re.search(r"^License:\s*(.+)$", stanza, re.M)
        if files and licence:
            yield files.group(1).split(), licence.group(1).strip()
