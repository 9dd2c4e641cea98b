"""The render side shared by ``render``, ``replay`` and ``live``: keyframes in, frames out.

It pushes keyframes into the renderer, draws each frame with its :class:`FrameParams`, keeps the
overlay text current, and hands frames and log lines to the session recorder.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from dreamengine.recording import SessionRecorder
from dreamengine.render import FrameParams, Renderer
from dreamengine.render.overlay import overlay_lines, render_text


class Show:
    def __init__(self, renderer: Renderer, recorder: SessionRecorder | None,
                 read_back: bool = True) -> None:
        self.renderer = renderer
        self.recorder = recorder
        self.read_back = read_back  # read each frame back for the recorder
        self.keyframes = 0
        self._overlay_text: list[str] | None = None

    def keyframe(self, image: np.ndarray, t: float, latent: np.ndarray,
                 record: dict[str, Any]) -> int:
        """Show a new keyframe from time ``t``; returns its index."""
        index = self.keyframes
        self.renderer.push_keyframe(image, t)
        if self.recorder is not None:
            self.recorder.keyframe({"index": index, "t": t, **record}, latent)
        self.keyframes += 1
        return index

    def frame(self, index: int, params: FrameParams, record: dict[str, Any],
              save: bool = True, read: bool = False) -> np.ndarray | None:
        """Render frame ``index``; ``save`` writes it to the recording, ``read`` returns its
        pixels even when it is not saved (a virtual camera wants every frame)."""
        if params.overlay:
            self._update_overlay(record)
        self.renderer.render(params)
        save = save and self.recorder is not None and self.read_back
        rgb = self.renderer.read() if save or read else None
        if self.recorder is not None:
            full = {"index": index, "t": params.t, **record, "record": save,
                    "render": dataclasses.asdict(params), "keyframe": self.keyframes - 1}
            self.recorder.frame(full, rgb if save else None)
        return rgb

    def _update_overlay(self, record: dict[str, Any]) -> None:
        lines = overlay_lines(record.get("target", {}), record.get("probs", {}),
                              record.get("sampler", {}),
                              audio_overflows=record.get("audio_overflows", 0))
        if lines != self._overlay_text:
            self._overlay_text = lines
            font_px = max(11, self.renderer.out_size[1] // 45)
            self.renderer.set_overlay(render_text(lines, font_px))
