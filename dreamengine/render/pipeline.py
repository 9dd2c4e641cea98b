"""The renderer: keyframes in; feedback canvas, colour, sharpening, upscale and overlay out.

Per frame: cross-fade the keyframes (keyframe resolution) → feedback zoom into the canvas
(canvas resolution, 16-bit float ping-pong) → colour → optional sharpen → bicubic upscale to the
output size (8-bit) → optional overlay. Call from the thread that owns ``ctx`` only.
"""

from __future__ import annotations

import moderngl
import numpy as np

from dreamengine.render.params import FrameParams, RenderConfig
from dreamengine.render.passes import (
    ColourPass,
    CrossfadePass,
    FeedbackPass,
    OverlayPass,
    SharpenPass,
    UpscalePass,
    make_texture,
)

OVERLAY_MARGIN = 12  # px from the top-left corner


def canvas_size(out_size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """The feedback canvas: the output's aspect, ``long_side`` px on its long side at most."""
    w, h = out_size
    scale = min(1.0, long_side / max(w, h))
    return max(8, round(w * scale)), max(8, round(h * scale))


class Renderer:
    def __init__(self, ctx: moderngl.Context, out_size: tuple[int, int], key_size: int,
                 config: RenderConfig) -> None:
        self.ctx = ctx
        self.config = config
        self._key_side = key_size
        key = (key_size, key_size)
        # A ring of keyframe textures: writing one that queued draws still read would make the
        # driver wait for them (17 ms a write on llvmpipe at 720p).
        self._keyframes = [make_texture(ctx, key, dtype="f1", components=3) for _ in range(3)]
        self._key_slot = 0
        self._fades = [CrossfadePass(ctx, key), CrossfadePass(ctx, key)]
        self._overlay = OverlayPass(ctx)
        self._overlay_text: moderngl.Texture | None = None
        self._front = 0  # index of the fade pass holding the blend we fade from
        self._key_time = 0.0
        self._crossfade_s = config.crossfade_s  # the last value a frame asked for
        self._build_output(out_size)

    def _build_output(self, out_size: tuple[int, int]) -> None:
        self.out_size = out_size
        canvas = canvas_size(out_size, self.config.canvas_px)
        self._canvas = [FeedbackPass(self.ctx, canvas), FeedbackPass(self.ctx, canvas)]
        self._canvas_front = 0
        self._colour = ColourPass(self.ctx, canvas)
        self._sharpen = SharpenPass(self.ctx, canvas)
        self._upscale = UpscalePass(self.ctx, out_size, self.config.upscale)

    def resize(self, out_size: tuple[int, int]) -> None:
        """Rebuild the output-sized passes (the canvas starts again from black)."""
        if out_size != self.out_size:
            self._release_output()
            self._build_output(out_size)

    def push_keyframe(self, image: np.ndarray, t: float) -> None:
        """A new keyframe ``[S, S, 3]`` uint8 (row 0 = top) that arrived at time ``t`` (s).

        The fade restarts from the blend as it stands at ``t`` — not from the last frame drawn —
        so what is shown depends only on the keyframes and their times: keyframes that arrive
        every frame (offline renders, stamped with the frame's own time) still fade in.
        """
        s = self._key_side
        if image.shape != (s, s, 3) or image.dtype != np.uint8:
            raise ValueError(f"expected a keyframe [{s}, {s}, 3] uint8, got {image.shape} "
                             f"{image.dtype}")
        back = self._fades[1 - self._front]
        back.run(self._fades[self._front].texture, self._keyframes[self._key_slot],
                 self._progress(t))
        self._front = 1 - self._front  # the blend at ``t`` becomes the one we fade from
        self._key_slot = (self._key_slot + 1) % len(self._keyframes)
        self._keyframes[self._key_slot].write(np.ascontiguousarray(image).tobytes())
        self._key_time = t

    def _progress(self, t: float) -> float:
        """How far the fade into the newest keyframe is at time ``t`` (0..1)."""
        if self._crossfade_s <= 0:
            return 1.0
        return min(max((t - self._key_time) / self._crossfade_s, 0.0), 1.0)

    def set_overlay(self, rgba: np.ndarray | None) -> None:
        """Text image ``[H, W, 4]`` uint8 for the overlay (see ``overlay.render_text``)."""
        if self._overlay_text is not None:
            self._overlay_text.release()
            self._overlay_text = None
        if rgba is not None:
            h, w = rgba.shape[:2]
            self._overlay_text = make_texture(self.ctx, (w, h), dtype="f1", components=4)
            self._overlay_text.write(np.ascontiguousarray(rgba).tobytes())

    def render(self, params: FrameParams) -> moderngl.Texture:
        """Draw one frame; returns the output texture (``[H, W]`` RGBA8)."""
        self._crossfade_s = params.crossfade_s
        held = self._fades[self._front].texture
        current = self._keyframes[self._key_slot]
        key = self._fades[1 - self._front].run(held, current, self._progress(params.t))
        previous = self._canvas[self._canvas_front].texture
        self._canvas_front = 1 - self._canvas_front
        canvas = self._canvas[self._canvas_front].run(previous, key, params)
        graded = self._colour.run(canvas, params)
        if params.sharpen > 0:
            graded = self._sharpen.run(graded, params.sharpen)
        out = self._upscale.run(graded, params.pulse)
        if params.overlay and self._overlay_text is not None:
            self._overlay.run(self._upscale.fbo, self._overlay_text,
                              (OVERLAY_MARGIN, OVERLAY_MARGIN))
        return out

    @property
    def output(self) -> moderngl.Texture:
        return self._upscale.texture

    def read(self) -> np.ndarray:
        """The last rendered frame as ``[H, W, 3]`` uint8, row 0 = top of the image."""
        w, h = self.out_size
        raw = self._upscale.fbo.read(components=3, alignment=1)
        return np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3)

    def _release_output(self) -> None:
        for p in (*self._canvas, self._colour, self._sharpen, self._upscale):
            p.release()

    def release(self) -> None:
        self._release_output()
        for f in self._fades:
            f.release()
        self._overlay.release()
        self.set_overlay(None)
        for tex in self._keyframes:
            tex.release()
