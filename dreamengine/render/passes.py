"""Render passes: each owns its program and its output framebuffer.

Textures hold images with array row 0 at ``v = 0``; every pass maps output pixels to ``uv`` the
same way, so a read-back returns rows in the order they were uploaded (row 0 = top of the image).
Only a pass that presents to a window flips.
"""

from __future__ import annotations

from typing import cast

import moderngl

from dreamengine.render.program import load_program


def make_texture(ctx: moderngl.Context, size: tuple[int, int], dtype: str = "f2",
                 components: int = 4) -> moderngl.Texture:
    """A linearly filtered, edge-clamped texture of ``size`` = (width, height)."""
    tex = ctx.texture(size, components, dtype=dtype)
    tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
    tex.repeat_x = tex.repeat_y = False
    return tex


class _Pass:
    """A full-screen pass drawing one fragment shader into its own framebuffer."""

    def __init__(self, ctx: moderngl.Context, fragment: str, size: tuple[int, int],
                 dtype: str) -> None:
        self.ctx = ctx
        self.size = size
        self.program = load_program(ctx, fragment)
        self.vao = ctx.vertex_array(self.program, [])
        self.texture = make_texture(ctx, size, dtype)
        self.fbo = ctx.framebuffer(color_attachments=[self.texture])
        self.fbo.clear(0.0, 0.0, 0.0, 1.0)

    def set(self, name: str, value: object) -> None:
        """Set uniform ``name`` of this pass's program."""
        cast(moderngl.Uniform, self.program[name]).value = value

    def _draw(self, textures: dict[str, moderngl.Texture]) -> moderngl.Texture:
        for unit, (name, tex) in enumerate(textures.items()):
            tex.use(location=unit)
            self.set(name, unit)
        self.fbo.use()
        self.vao.render(moderngl.TRIANGLES, vertices=3)
        return self.texture

    def release(self) -> None:
        for obj in (self.vao, self.fbo, self.texture, self.program):
            obj.release()


class CrossfadePass(_Pass):
    """``mix(held, current, progress)`` at the keyframe resolution, in 16-bit float."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]) -> None:
        super().__init__(ctx, "crossfade.frag", size, dtype="f2")

    def run(self, held: moderngl.Texture, current: moderngl.Texture,
            progress: float) -> moderngl.Texture:
        self.set("progress", float(progress))
        return self._draw({"held": held, "current": current})


class UpscalePass(_Pass):
    """Catmull-Rom bicubic resampling to the output size, into 8-bit RGBA."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]) -> None:
        super().__init__(ctx, "upscale.frag", size, dtype="f1")

    def run(self, source: moderngl.Texture) -> moderngl.Texture:
        self.set("source_size", tuple(float(s) for s in source.size))
        self.set("crop", cover_crop(source.size, self.size))
        return self._draw({"source": source})


def cover_crop(source: tuple[int, int], out: tuple[int, int]) -> tuple[float, float]:
    """Fraction of the source visible per axis when it fills ``out`` without stretching."""
    src_aspect, out_aspect = source[0] / source[1], out[0] / out[1]
    if out_aspect >= src_aspect:
        return 1.0, src_aspect / out_aspect
    return out_aspect / src_aspect, 1.0
