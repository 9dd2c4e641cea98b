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
    "controls": {"sampler", "selection", "render", "recording"},
    "dream": {"sampler", "models"},
    "engine": {"audio", "features", "classifier", "selection", "sampler", "models", "render",
               "recording", "controls", "dream"},
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
    ("pythonosc", "controls/osc.py"), ("mido", "controls/midi.py"),
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


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_imports(path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``path`` imports anywhere: at load time, inside functions
    (lazy) or for type checking only — a cycle through any of them is a design cycle."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module in known:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names
                       if f"{node.module}.{a.name}" in known)
    return out


def test_no_import_cycles() -> None:
    paths = {_module_name(p): p for p in modules()}
    graph = {name: _package_imports(path, set(paths)) - {name} for name, path in paths.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for other in sorted(graph[name]):
            if other.startswith(name + ".") or name.startswith(other + "."):
                continue  # a package and its own modules
            assert state.get(other) != 1, "import cycle: " + " → ".join([*trail, name, other])
            if other not in state:
                visit(other, [*trail, name])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_no_module_is_long() -> None:
    """Small pieces: a file past 300 lines is asking to be split (the house style)."""
    long = {p.relative_to(PACKAGE).as_posix(): n for p in modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300}
    assert not long, long
