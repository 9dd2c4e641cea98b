"""Render passes: each owns its program and (except ``PresentPass``) its output framebuffer.

Textures hold images with array row 0 at ``v = 0``; every pass maps output pixels to ``uv`` the
same way, so a read-back returns rows in the order they were uploaded (row 0 = top of the
image). Only :class:`PresentPass`, which draws into a window, flips.
"""

from __future__ import annotations

from typing import cast

import moderngl

from dreamengine.render.params import FrameParams
from dreamengine.render.program import load_program


def make_texture(ctx: moderngl.Context, size: tuple[int, int], dtype: str = "f2",
                 components: int = 4) -> moderngl.Texture:
    """A linearly filtered, edge-clamped texture of ``size`` = (width, height)."""
    tex = ctx.texture(size, components, dtype=dtype)
    tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
    tex.repeat_x = tex.repeat_y = False
    return tex


def cover_crop(source: tuple[int, int], out: tuple[int, int]) -> tuple[float, float]:
    """Fraction of the source visible per axis when it fills ``out`` without stretching."""
    src_aspect, out_aspect = source[0] / source[1], out[0] / out[1]
    if out_aspect >= src_aspect:
        return 1.0, src_aspect / out_aspect
    return out_aspect / src_aspect, 1.0


class _Program:
    """A fragment shader over the full-screen triangle."""

    def __init__(self, ctx: moderngl.Context, fragment: str,
                 defines: tuple[str, ...] = ()) -> None:
        self.ctx = ctx
        self.program = load_program(ctx, fragment, defines=defines)
        self.vao = ctx.vertex_array(self.program, [])

    def set(self, name: str, value: object) -> None:
        """Set uniform ``name`` of this pass's program."""
        cast(moderngl.Uniform, self.program[name]).value = value

    def draw(self, target: moderngl.Framebuffer, textures: dict[str, moderngl.Texture]) -> None:
        for unit, (name, tex) in enumerate(textures.items()):
            tex.use(location=unit)
            self.set(name, unit)
        target.use()
        self.vao.render(moderngl.TRIANGLES, vertices=3)

    def release(self) -> None:
        self.vao.release()
        self.program.release()


class _Pass(_Program):
    """A program drawing into a framebuffer of its own."""

    def __init__(self, ctx: moderngl.Context, fragment: str, size: tuple[int, int],
                 dtype: str, defines: tuple[str, ...] = ()) -> None:
        super().__init__(ctx, fragment, defines)
        self.size = size
        self.texture = make_texture(ctx, size, dtype)
        self.fbo = ctx.framebuffer(color_attachments=[self.texture])
        self.fbo.clear(0.0, 0.0, 0.0, 1.0)

    def _draw(self, textures: dict[str, moderngl.Texture]) -> moderngl.Texture:
        self.draw(self.fbo, textures)
        return self.texture

    def release(self) -> None:
        self.fbo.release()
        self.texture.release()
        super().release()


class CrossfadePass(_Pass):
    """``mix(held, current, progress)`` at the keyframe resolution, in 16-bit float."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]) -> None:
        super().__init__(ctx, "crossfade.frag", size, dtype="f2")

    def run(self, held: moderngl.Texture, current: moderngl.Texture,
            progress: float) -> moderngl.Texture:
        self.set("progress", float(progress))
        return self._draw({"held": held, "current": current})


class FeedbackPass(_Pass):
    """Zoom, rotate, drift and decay ``previous``, then blend the keyframe in (16-bit float)."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]) -> None:
        super().__init__(ctx, "feedback.frag", size, dtype="f2")

    def run(self, previous: moderngl.Texture, keyframe: moderngl.Texture,
            params: FrameParams) -> moderngl.Texture:
        self.set("key_crop", cover_crop(keyframe.size, self.size))
        self.set("aspect", self.size[0] / self.size[1])
        self.set("zoom", float(params.zoom))
        self.set("rotate", float(params.rotate))
        self.set("drift", tuple(float(d) for d in params.drift))
        self.set("decay", float(params.decay))
        self.set("key_mix", float(params.key_mix))
        return self._draw({"previous": previous, "keyframe": keyframe})


class ColourPass(_Pass):
    """Brightness, contrast, saturation and hue at canvas resolution, into 8-bit (not fed
    back, and the upscale samples 8-bit textures faster on llvmpipe)."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]) -> None:
        super().__init__(ctx, "colour.frag", size, dtype="f1")

    def run(self, source: moderngl.Texture, params: FrameParams) -> moderngl.Texture:
        self.set("brightness", float(params.brightness))
        self.set("contrast", float(params.contrast))
        self.set("saturation", float(params.saturation))
        self.set("hue", float(params.hue))
        return self._draw({"source": source})


class SharpenPass(_Pass):
    """An unsharp mask at canvas resolution."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]) -> None:
        super().__init__(ctx, "sharpen.frag", size, dtype="f1")

    def run(self, source: moderngl.Texture, amount: float) -> moderngl.Texture:
        self.set("amount", float(amount))
        return self._draw({"source": source})


UPSCALE_FILTERS = {"catmull-rom": (), "b-spline": ("B_SPLINE",)}


class UpscalePass(_Pass):
    """Bicubic resampling to the output size, into 8-bit RGBA: ``catmull-rom`` (sharp, 5
    fetches) or ``b-spline`` (soft, 4 fetches)."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int],
                 filter: str = "catmull-rom") -> None:
        if filter not in UPSCALE_FILTERS:
            raise ValueError(f"unknown upscale filter {filter!r}; one of {list(UPSCALE_FILTERS)}")
        super().__init__(ctx, "upscale.frag", size, dtype="f1", defines=UPSCALE_FILTERS[filter])

    def run(self, source: moderngl.Texture, pulse: float = 0.0) -> moderngl.Texture:
        self.set("source_size", tuple(float(s) for s in source.size))
        self.set("crop", cover_crop(source.size, self.size))
        self.set("pulse", max(float(pulse), -0.5))
        return self._draw({"source": source})


class OverlayPass(_Program):
    """Alpha-blends a text image into a rectangle of a target framebuffer."""

    def __init__(self, ctx: moderngl.Context) -> None:
        super().__init__(ctx, "overlay.frag")

    def run(self, target: moderngl.Framebuffer, text: moderngl.Texture,
            origin: tuple[int, int], opacity: float = 1.0) -> None:
        """Draw ``text`` with its top-left corner at ``origin`` (px from the top-left)."""
        saved = target.viewport
        target.viewport = (origin[0], origin[1], *text.size)
        self.set("opacity", float(opacity))
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        try:
            self.draw(target, {"text": text})
        finally:
            self.ctx.disable(moderngl.BLEND)
            target.viewport = saved


class PresentPass(_Program):
    """Draws the finished frame into a window's framebuffer, flipped for its upward y axis."""

    def __init__(self, ctx: moderngl.Context) -> None:
        super().__init__(ctx, "present.frag")

    def run(self, target: moderngl.Framebuffer, frame: moderngl.Texture) -> None:
        self.draw(target, {"frame": frame})
