"""Keyboard shortcuts in the window: each key changes the render config or asks for an action.

The controls issue folds these into one control bus with OSC and MIDI; until then the window's
keys act on :class:`RenderConfig` directly and every change shows up in ``frames.jsonl``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from dreamengine.render import RenderConfig

Edit = Callable[[RenderConfig], RenderConfig]

ACTIONS = {"escape": "quit", "q": "quit", "f": "fullscreen", "f11": "fullscreen",
           "r": "record"}


def _scale(field: str, factor: float, low: float, high: float) -> Edit:
    def edit(cfg: RenderConfig) -> RenderConfig:
        value = min(max(getattr(cfg, field) * factor, low), high)
        return replace(cfg, **{field: value})
    return edit


def _add(field: str, step: float, low: float, high: float) -> Edit:
    def edit(cfg: RenderConfig) -> RenderConfig:
        return replace(cfg, **{field: min(max(getattr(cfg, field) + step, low), high)})
    return edit


def _zoom(factor: float) -> Edit:
    def edit(cfg: RenderConfig) -> RenderConfig:  # scale the speed, keep the direction
        speed = (cfg.zoom_per_s - 1.0) * factor
        return replace(cfg, zoom_per_s=1.0 + max(min(speed, 2.0), -0.9))
    return edit


EDITS: dict[str, tuple[str, Edit]] = {
    "o": ("overlay on/off", lambda c: replace(c, overlay=not c.overlay)),
    "=": ("zoom faster", _zoom(1.25)),
    "-": ("zoom slower", _zoom(0.8)),
    "0": ("zoom direction", lambda c: replace(c, zoom_per_s=2.0 - c.zoom_per_s)),
    "]": ("longer trails", _add("decay_per_s", 0.05, 0.0, 1.0)),
    "[": ("shorter trails", _add("decay_per_s", -0.05, 0.0, 1.0)),
    ".": ("rotate faster (counter-clockwise)", _add("rotate_deg_per_s", 2.0, -90.0, 90.0)),
    ",": ("rotate faster (clockwise)", _add("rotate_deg_per_s", -2.0, -90.0, 90.0)),
    "c": ("longer cross-fade", _scale("crossfade_s", 1.25, 0.02, 10.0)),
    "C": ("shorter cross-fade", _scale("crossfade_s", 0.8, 0.02, 10.0)),
    "s": ("sharpen on/off", lambda c: replace(c, sharpen=0.0 if c.sharpen else 0.6)),
    "b": ("brighter", _add("brightness", 0.05, -1.0, 1.0)),
    "B": ("darker", _add("brightness", -0.05, -1.0, 1.0)),
    "h": ("hue +15°", _add("hue_deg", 15.0, -180.0, 180.0)),
    "H": ("hue −15°", _add("hue_deg", -15.0, -180.0, 180.0)),
    "space": ("freeze / release motion", lambda c: replace(
        c, zoom_per_s=1.0, rotate_deg_per_s=0.0) if c.zoom_per_s != 1.0 or c.rotate_deg_per_s
        else replace(c, zoom_per_s=RenderConfig.zoom_per_s,
                     rotate_deg_per_s=RenderConfig.rotate_deg_per_s)),
}


def apply_key(key: str, cfg: RenderConfig) -> tuple[RenderConfig, str | None]:
    """The config after ``key`` and the action it asks for (quit, fullscreen, record), if any."""
    if key in EDITS:
        return EDITS[key][1](cfg), None
    return cfg, ACTIONS.get(key)


def help_text() -> str:
    """One line per shortcut, for ``--help`` and the README."""
    lines = [f"{k:>6}  {a}" for k, a in ACTIONS.items()]
    lines += [f"{k:>6}  {desc}" for k, (desc, _) in EDITS.items()]
    return "\n".join(lines)
