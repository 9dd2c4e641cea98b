"""What the renderer does: rates set by the user (``RenderConfig``), per-frame amounts.

Motion is set as rates per second; :func:`frame_params` turns them into the amounts for one frame
of duration ``dt`` (zoom ``z ** dt``, decay ``d ** dt``, mix ``1 − exp(−dt / τ)``), so the canvas
moves the same at any frame rate. Every frame's ``FrameParams`` is logged, so ``replay``
re-renders exactly what was shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


class Drive(Protocol):
    """The sound's dynamics this frame, each 0..1 (``features.Drive`` is one)."""

    @property
    def level(self) -> float: ...
    @property
    def bass(self) -> float: ...
    @property
    def treble(self) -> float: ...
    @property
    def pulse(self) -> float: ...


@dataclass(frozen=True)
class _Still:
    level: float = 0.5
    bass: float = 0.0
    treble: float = 0.0
    pulse: float = 0.0


@dataclass(frozen=True)
class RenderConfig:
    """Look of the canvas; every field may change live."""

    crossfade_s: float = 0.3  # s, time to blend the canvas into a newly arrived keyframe
    canvas_px: int = 512  # px, long side of the feedback canvas (upscaled to the output)
    upscale: str = "catmull-rom"  # bicubic filter to the output: catmull-rom or b-spline
    zoom_per_s: float = 1.04  # canvas scale per second; > 1 falls inward, 1 stands still
    rotate_deg_per_s: float = 1.0  # degrees per second, counter-clockwise
    drift_x_per_s: float = 0.0  # canvas widths per second, rightward
    drift_y_per_s: float = 0.0  # canvas heights per second, downward
    decay_per_s: float = 0.85  # share of the old canvas's brightness kept after one second
    keyframe_tau_s: float = 0.06  # s, time constant with which the canvas takes on the keyframe
    brightness: float = 0.0  # added to every channel (-1..1)
    contrast: float = 1.0  # gain about mid-grey
    saturation: float = 1.0  # 0 grey, 1 unchanged
    hue_deg: float = 0.0  # degrees of hue rotation
    sharpen: float = 0.0  # unsharp-mask amount; 0 skips the pass
    overlay: bool = False  # show top classes, weights and sampler parameters
    # the fast path: how the sound's dynamics move the picture in the frame that hears them
    pulse_scale: float = 0.04  # fraction the picture swells on an onset (0 turns it off)
    pulse_brightness: float = 0.08  # brightness added on an onset
    bass_zoom: float = 1.5  # extra zoom speed at full bass (× the set speed)
    level_brightness: float = 0.1  # brightness from quiet (−half) to loud (+half)
    treble_saturation: float = 0.3  # extra saturation at full treble


@dataclass(frozen=True)
class FrameParams:
    """Everything the passes need for one frame (amounts, not rates)."""

    t: float  # s, the frame's time
    crossfade_s: float = 0.3  # s
    zoom: float = 1.0  # scale this frame
    rotate: float = 0.0  # radians this frame
    drift: tuple[float, float] = (0.0, 0.0)  # canvas fractions this frame
    decay: float = 1.0  # multiplier on the old canvas this frame
    key_mix: float = 1.0  # share of the keyframe this frame
    brightness: float = 0.0
    contrast: float = 1.0
    saturation: float = 1.0
    hue: float = 0.0  # radians
    sharpen: float = 0.0
    overlay: bool = False
    pulse: float = 0.0  # the picture's swell this frame (fraction; not fed back)


def frame_params(config: RenderConfig, t: float, dt: float,
                 drive: Drive | None = None) -> FrameParams:
    """The amounts for a frame at ``t`` lasting ``dt`` seconds under ``config``, moved by the
    sound's ``drive`` (onset pulse, loudness, bands) when one is given."""
    dt = max(dt, 0.0)
    key_mix = 1.0 if config.keyframe_tau_s <= 0 else 1.0 - math.exp(-dt / config.keyframe_tau_s)
    d = drive if drive is not None else _Still()
    zoom_speed = 1.0 + config.bass_zoom * d.bass
    brightness = (config.brightness + config.pulse_brightness * d.pulse
                  + config.level_brightness * (d.level - 0.5))
    return FrameParams(
        t=t,
        crossfade_s=config.crossfade_s,
        zoom=config.zoom_per_s ** (dt * zoom_speed),
        rotate=math.radians(config.rotate_deg_per_s) * dt,
        drift=(config.drift_x_per_s * dt, config.drift_y_per_s * dt),
        decay=max(config.decay_per_s, 0.0) ** dt,
        key_mix=key_mix,
        brightness=brightness,
        contrast=config.contrast,
        saturation=config.saturation * (1.0 + config.treble_saturation * d.treble),
        hue=math.radians(config.hue_deg),
        sharpen=config.sharpen,
        overlay=config.overlay,
        pulse=config.pulse_scale * d.pulse,
    )
