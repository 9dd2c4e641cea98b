"""Keyboard shortcuts in the window: each key sends a change or an action on the control bus.

A key either scales or steps a parameter from its current value (clamped to the parameter's
range) or asks for an action; :func:`apply_key` goes through :class:`Controls`, so keys, OSC
and MIDI change the show the same way and every change lands in ``frames.jsonl``.
"""

from __future__ import annotations

from collections.abc import Callable

from dreamengine.controls.bus import PARAMS, Controls
from dreamengine.render import RenderConfig

Edit = Callable[[Controls], tuple[str, object]]  # → (control name, new value)

ACTIONS = {"escape": "quit", "q": "quit", "f": "fullscreen", "f11": "fullscreen",
           "r": "record", "x": "reseed", "X": "reset"}


def _clamped(name: str, value: float) -> float:
    p = PARAMS[name]
    return min(max(value, p.low), p.high)


def _scale(name: str, factor: float) -> Edit:
    return lambda c: (name, _clamped(name, c.get(name) * factor))


def _add(name: str, step: float) -> Edit:
    return lambda c: (name, _clamped(name, c.get(name) + step))


def _toggle(name: str) -> Edit:
    return lambda c: (name, not c.get(name))


def _zoom(factor: float) -> Edit:  # scale the speed, keep the direction
    return lambda c: ("render.zoom_per_s",
                      1.0 + max(min((c.get("render.zoom_per_s") - 1.0) * factor, 2.0), -0.9))


def _freeze(c: Controls) -> tuple[str, object]:
    moving = c.get("render.zoom_per_s") != 1.0
    return "render.zoom_per_s", 1.0 if moving else RenderConfig.zoom_per_s


EDITS: dict[str, tuple[str, Edit]] = {
    "o": ("overlay on/off", _toggle("render.overlay")),
    "=": ("zoom faster", _zoom(1.25)),
    "-": ("zoom slower", _zoom(0.8)),
    "0": ("zoom direction", lambda c: ("render.zoom_per_s", 2.0 - c.get("render.zoom_per_s"))),
    "]": ("longer trails", _add("render.decay_per_s", 0.05)),
    "[": ("shorter trails", _add("render.decay_per_s", -0.05)),
    ".": ("rotate faster (counter-clockwise)", _add("render.rotate_deg_per_s", 2.0)),
    ",": ("rotate faster (clockwise)", _add("render.rotate_deg_per_s", -2.0)),
    "c": ("longer cross-fade", _scale("render.crossfade_s", 1.25)),
    "C": ("shorter cross-fade", _scale("render.crossfade_s", 0.8)),
    "s": ("sharpen on/off", lambda c: ("render.sharpen", 0.0 if c.get("render.sharpen") else 0.6)),
    "b": ("brighter", _add("render.brightness", 0.05)),
    "B": ("darker", _add("render.brightness", -0.05)),
    "h": ("hue +15°", _add("render.hue_deg", 15.0)),
    "H": ("hue −15°", _add("render.hue_deg", -15.0)),
    "space": ("freeze / release the zoom", _freeze),
    "e": ("class pull ε2 ×1.25", _scale("sampler.eps2", 1.25)),
    "E": ("class pull ε2 ×0.8", _scale("sampler.eps2", 0.8)),
    "p": ("prior pull ε1 ×1.25", _scale("sampler.eps1", 1.25)),
    "P": ("prior pull ε1 ×0.8", _scale("sampler.eps1", 0.8)),
    "n": ("noise ε3 ×1.25", _scale("sampler.eps3", 1.25)),
    "N": ("noise ε3 ×0.8", _scale("sampler.eps3", 0.8)),
    "l": ("step size (lr) ×1.25", _scale("sampler.lr", 1.25)),
    "L": ("step size (lr) ×0.8", _scale("sampler.lr", 0.8)),
    "k": ("one more step per keyframe", _add("sampler.steps_per_keyframe", 1)),
    "K": ("one step fewer per keyframe", _add("sampler.steps_per_keyframe", -1)),
    "m": ("spatial blend on/off", _toggle("sampler.spatial")),
    "a": ("beat reaction on/off", lambda c: (
        "render.pulse_scale", 0.0 if c.get("render.pulse_scale") else RenderConfig.pulse_scale)),
}


def apply_key(key: str, controls: Controls, t: float | None = None) -> str | None:
    """Send what ``key`` means to ``controls``; returns the action it asks for, if any."""
    if key in EDITS:
        name, value = EDITS[key][1](controls)
        if PARAMS[name].kind is int:
            value = int(value)  # type: ignore[call-overload]
        controls.set(name, value, source="key", t=t)
        return None
    action = ACTIONS.get(key)
    if action is not None:
        controls.act(action, source="key", t=t)
    return action


def help_text() -> str:
    """One line per shortcut, for ``--help`` and the README."""
    lines = [f"{k:>6}  {a}" for k, a in ACTIONS.items()]
    lines += [f"{k:>6}  {desc}" for k, (desc, _) in EDITS.items()]
    lines += ["   1-9  recall preset 1-9 (gliding)", "ctrl+1-9  save the running state as it"]
    return "\n".join(lines)
