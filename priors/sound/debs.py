"""Fetch and unpack the Debian packages the sound build may read, and refuse the reserved ones.

Packages are fetched with ``apt-get download`` into ``CACHE/debs`` and unpacked with ``dpkg -x``
into ``CACHE/pkgs/NAME``; both steps are skipped when already done. Every package name passes
``check_allowed`` first, so a reserved evaluation package can never be downloaded or read.
Licences come from the DEP-5 ``copyright`` file shipped in each package.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Sound-effect and speech data we may train on (DESIGN.md, "Data we may train on").
TRAINING_PACKAGES = (
    "tuxpaint-stamps-default",
    "gcompris-qt-data",
    "openttd-opensfx",
    "widelands-data",
    "megaglest-data",
    "lincity-ng-data",
    "minetest-data",
    "ktuberling-data",
    "wesnoth-1.16-data",
    "freeciv-data",
)
#: Instrument data for the synthesisers: FluidR3 and csound's GM bank for training, freepats for
#: the held-out set.
SYNTH_PACKAGES = ("fluid-soundfont-gm", "csound-soundfont", "freepats")

#: Reserved for independent evaluation: never downloaded, never read (DESIGN.md).
DENY_PATTERNS = (
    "0ad-data*",
    "supertuxkart-data*",
    "hedgewars-data*",
    "flightgear-data-base*",
    "torcs-data*",
    "timgm6mb-soundfont*",
    "musescore-general-soundfont*",
    "*emoji-datasource-twitter*",
    "*twemoji*",
    "*openmoji*",
)


class ReservedPackageError(RuntimeError):
    """Raised when code asks for a package reserved for evaluation."""


def check_allowed(name: str) -> None:
    """Refuse reserved packages and anything not on the explicit allow-lists."""
    if any(fnmatch.fnmatch(name.lower(), pattern) for pattern in DENY_PATTERNS):
        raise ReservedPackageError(f"{name} is reserved for evaluation and must not be read")
    if name not in TRAINING_PACKAGES + SYNTH_PACKAGES:
        raise ReservedPackageError(f"{name} is not on the sound build's allow-list")


def _find_deb(debs: Path, name: str) -> Path | None:
    found = sorted(debs.glob(f"{name}_*.deb"))
    return found[-1] if found else None


def fetch(name: str, cache: Path) -> Path:
    """Download ``name``'s .deb into ``cache/debs`` unless it is already there; return its path."""
    check_allowed(name)
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    deb = _find_deb(debs, name)
    if deb is None:
        print(f"  apt-get download {name}", flush=True)
        subprocess.run(["apt-get", "download", name], cwd=debs, check=True)
        deb = _find_deb(debs, name)
    if deb is None:
        raise FileNotFoundError(f"apt-get download {name} produced no .deb")
    return deb


def unpack(name: str, cache: Path) -> Path:
    """Fetch and ``dpkg -x`` a package into ``cache/pkgs/name`` once; return that root."""
    check_allowed(name)
    root = cache / "pkgs" / name
    marker = root / ".unpacked"
    if not marker.exists():
        deb = fetch(name, cache)
        print(f"  dpkg -x {deb.name}", flush=True)
        root.parent.mkdir(parents=True, exist_ok=True)  # dpkg-deb creates only the last level
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
        marker.write_text(deb.name + "\n")
    return root


def version(name: str, cache: Path) -> str:
    """The Debian version of the fetched package."""
    deb = fetch(name, cache)
    done = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@dataclass(frozen=True)
class CopyrightRule:
    """One DEP-5 ``Files:`` paragraph: glob patterns and the licence that covers them."""

    globs: tuple[str, ...]
    licence: str


def read_copyright(root: Path, name: str) -> list[CopyrightRule]:
    """Parse ``usr/share/doc/NAME/copyright`` into DEP-5 rules (empty if it is free-form)."""
    path = root / "usr/share/doc" / name / "copyright"
    if not path.exists():
        return []
    rules = []
    for para in re.split(r"\n\s*\n", path.read_text(errors="replace")):
        files = re.search(r"^Files:(.*(?:\n[ \t].*)*)", para, re.M)
        lic = re.search(r"^License:[ \t]*(\S.*)$", para, re.M)
        if files and lic:
            rules.append(CopyrightRule(tuple(files.group(1).split()), lic.group(1).strip()))
    return rules


def licence_for(rules: list[CopyrightRule], inner_path: str, default: str) -> str:
    """Licence of ``inner_path`` by DEP-5 rules (the last matching paragraph wins)."""
    found = default
    for rule in rules:
        for glob in rule.globs:
            if fnmatch.fnmatch(inner_path, glob) or fnmatch.fnmatch(inner_path, "*/" + glob):
                found = rule.licence
    return found


def licences_in(rules: list[CopyrightRule]) -> list[str]:
    """All distinct licences named in a package's copyright file."""
    return sorted({rule.licence for rule in rules})
