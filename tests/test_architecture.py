"""The folder tree is the architecture: imports point one way, heavy libraries stay in one place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dreamengine

PACKAGE = Path(dreamengine.__file__).parent
# Pipeline stages may import the shared base modules and, where listed, an earlier layer.
BASE = {"errors", "clock", "config", "vocabulary", "resources", "checkpoint", "lazy",
        "filemode"}
ALLOWED = {
    "audio": set(), "features": set(), "classifier": set(), "selection": set(),
    "models": set(), "sampler": set(), "render": set(), "recording": set(),
    "engine": {"audio", "features", "classifier", "selection", "sampler", "models", "render",
               "recording"},
}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "_priors" not in p.parts)


@pytest.mark.parametrize("stage", sorted(ALLOWED))
def test_stages_import_only_what_they_may(stage: str) -> None:
    for path in (PACKAGE / stage).rglob("*.py"):
        for name in imports_of(path):
            parts = name.split(".")
            if parts[0] != "dreamengine" or len(parts) < 2:
                continue
            target = parts[1]
            assert target in BASE | ALLOWED[stage] | {stage}, f"{path.name} imports {name}"


@pytest.mark.parametrize(("library", "home"), [
    ("moderngl", "render"), ("glfw", "render/window.py"), ("sounddevice", "audio/live.py"),
    ("pythonosc", "engine/osc.py"), ("mido", "engine/midi.py"),
    ("torchvision", "models/torchvision_vision.py"),
])
def test_heavy_libraries_are_imported_in_one_place(library: str, home: str) -> None:
    for path in modules():
        if any(n == library or n.startswith(library + ".") for n in imports_of(path)):
            rel = path.relative_to(PACKAGE).as_posix()
            assert rel.startswith(home), f"{rel} imports {library}"


def test_base_modules_import_no_stage() -> None:
    for name in BASE:
        for imported in imports_of(PACKAGE / f"{name}.py"):
            parts = imported.split(".")
            if parts[0] == "dreamengine" and len(parts) > 1:
                assert parts[1] in BASE, f"{name}.py imports {imported}"


def test_no_grab_bag_modules() -> None:
    assert not [p for p in modules() if p.stem in {"utils", "misc", "helpers", "common"}]
