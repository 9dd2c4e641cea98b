"""Loading one GLSL program per pass from ``shaders/``; compile errors name the file and line."""

from __future__ import annotations

import re
from pathlib import Path

import moderngl

from dreamengine.errors import DreamengineError
from dreamengine.resources import shaders_dir

VERTEX_SHADER = "fullscreen.vert"


def load_program(ctx: moderngl.Context, fragment: str, folder: Path | None = None,
                 defines: tuple[str, ...] = ()) -> moderngl.Program:
    """Compile ``fullscreen.vert`` with the fragment shader file ``fragment``.

    ``defines`` are ``#define``d after the ``#version`` line (a ``#line`` directive keeps the
    driver's line numbers those of the file).
    """
    folder = folder or shaders_dir()
    vert_path, frag_path = folder / VERTEX_SHADER, folder / fragment
    sources = {path: _read(path) for path in (vert_path, frag_path)}
    if defines:
        sources[frag_path] = _with_defines(sources[frag_path], defines)
    try:
        return ctx.program(vertex_shader=sources[vert_path], fragment_shader=sources[frag_path])
    except moderngl.Error as exc:
        raise DreamengineError(_describe(str(exc), vert_path, frag_path)) from None


def _with_defines(source: str, defines: tuple[str, ...]) -> str:
    version, _sep, rest = source.partition("\n")
    if not version.startswith("#version"):
        raise DreamengineError("a shader with defines must start with its #version line")
    lines = "".join(f"#define {name}\n" for name in defines)
    return f"{version}\n{lines}#line 2\n{rest}"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DreamengineError(f"cannot read shader {path}: {exc.strerror or exc}") from None


def _describe(log: str, vert_path: Path, frag_path: Path) -> str:
    """Turn a driver log into ``file:line: message`` lines."""
    path = vert_path if "vertex_shader" in log.split("\n", 1)[0] else frag_path
    lines = []
    for line in log.splitlines():
        # Mesa: "0:12(5): error: ..."; others: "ERROR: 0:12: ..."
        m = re.search(r"\b\d+:(\d+)(?:\(\d+\))?:?\s*(.*)", line)
        if m and ("error" in line.lower() or "warning" in line.lower()):
            lines.append(f"{path}:{m.group(1)}: {m.group(2).strip()}")
    detail = "\n".join(lines) if lines else log.strip()
    return f"shader {path} failed to compile:\n{detail}"
