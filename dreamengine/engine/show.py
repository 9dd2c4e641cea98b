"""The render side shared by ``render``, ``replay`` and ``live``: keyframes in, frames out.

It pushes keyframes into the renderer, draws each frame with its :class:`FrameParams`, keeps the
overlay text current, and hands frames and log lines to the session recorder.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from dreamengine.recording import SessionRecorder
from dreamengine.recording.frame import FrameRecord
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

    def frame(self, record: FrameRecord, params: FrameParams, save: bool = True,
              read: bool = False) -> tuple[FrameRecord, np.ndarray | None]:
        """Render the frame ``record`` describes with ``params``; ``save`` writes it to the
        recording, ``read`` returns its pixels even when it is not saved (a virtual camera
        wants every frame). Returns the record as logged (``record`` says whether it was
        offered for saving) and the pixels, when read."""
        if params.overlay:
            self._update_overlay(record)
        self.renderer.render(params)
        save = save and self.recorder is not None and self.read_back
        rgb = self.renderer.read() if save or read else None
        record = dataclasses.replace(record, record=save)
        if self.recorder is not None:
            self.recorder.frame(record.line(), rgb if save else None)
        return record, rgb

    def _update_overlay(self, record: FrameRecord) -> None:
        lines = overlay_lines(record.target, record.probs, record.sampler,
                              audio_overflows=record.audio_overflows or 0)
        if lines != self._overlay_text:
            self._overlay_text = lines
            font_px = max(11, self.renderer.out_size[1] // 45)
            self.renderer.set_overlay(render_text(lines, font_px))
