"""Creating GL contexts: an EGL offscreen context for headless rendering and tests."""

from __future__ import annotations

import moderngl

from dreamengine.errors import DreamengineError

GL_VERSION = 330


def create_headless_context() -> moderngl.Context:
    """An offscreen OpenGL 3.3+ context through EGL (Mesa llvmpipe works; no display needed)."""
    try:
        return moderngl.create_standalone_context(
            backend="egl", require=GL_VERSION)  # type: ignore[arg-type]  # stub says dict
    except Exception as exc:
        raise DreamengineError(
            f"cannot create a headless OpenGL context through EGL ({exc}); on Debian/Ubuntu "
            "install libegl1 libegl-mesa0 libgl1-mesa-dri"
        ) from None
