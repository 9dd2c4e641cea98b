"""The renderer: keyframes in, cross-faded and upscaled frames out, at any output size."""

from __future__ import annotations

from dataclasses import dataclass

import moderngl
import numpy as np

from dreamengine.render.passes import CrossfadePass, UpscalePass, make_texture


@dataclass(frozen=True)
class RenderConfig:
    crossfade_s: float = 0.3  # s, time to blend the canvas into a newly arrived keyframe


class Renderer:
    """Owns the passes for one output size; call from the thread that owns ``ctx`` only."""

    def __init__(self, ctx: moderngl.Context, out_size: tuple[int, int], source_size: int,
                 config: RenderConfig) -> None:
        self.ctx = ctx
        self.config = config
        self.out_size = out_size
        src = (source_size, source_size)
        self._keyframe = make_texture(ctx, src, dtype="f1", components=3)
        self._fades = [CrossfadePass(ctx, src), CrossfadePass(ctx, src)]
        self._upscale = UpscalePass(ctx, out_size)
        self._front = 0  # index of the fade pass holding the last shown canvas
        self._key_time = 0.0
        self._rendered_since_key = False

    def push_keyframe(self, image: np.ndarray, t: float) -> None:
        """A new keyframe ``[S, S, 3]`` uint8 (row 0 = top) that arrived at time ``t`` (s)."""
        s = self._keyframe.size[0]
        if image.shape != (s, s, 3) or image.dtype != np.uint8:
            raise ValueError(f"expected a keyframe [{s}, {s}, 3] uint8, got {image.shape} "
                             f"{image.dtype}")
        if self._rendered_since_key:
            self._front = 1 - self._front  # the canvas just shown becomes the one we fade from
        self._keyframe.write(np.ascontiguousarray(image).tobytes())
        self._key_time = t
        self._rendered_since_key = False

    def render(self, t: float) -> moderngl.Framebuffer:
        """Draw the frame for time ``t`` (s); returns the output framebuffer."""
        progress = 1.0
        if self.config.crossfade_s > 0:
            progress = (t - self._key_time) / self.config.crossfade_s
        progress = min(max(progress, 0.0), 1.0)
        held = self._fades[self._front].texture
        canvas = self._fades[1 - self._front].run(held, self._keyframe, progress)
        self._upscale.run(canvas)
        self._rendered_since_key = True
        return self._upscale.fbo

    def read(self) -> np.ndarray:
        """The last rendered frame as ``[H, W, 3]`` uint8, row 0 = top of the image."""
        w, h = self.out_size
        raw = self._upscale.fbo.read(components=3, alignment=1)
        return np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3)

    def release(self) -> None:
        for p in (*self._fades, self._upscale):
            p.release()
        self._keyframe.release()
