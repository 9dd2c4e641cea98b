"""The control bus: the one interface through which every live parameter changes.

Keys in the window, OSC and MIDI (through :mod:`~dreamengine.controls.console`) call
:meth:`Controls.set` with a dotted name and a value, or :meth:`Controls.act` with an action.
The bus checks the value against the parameter's type and range (a bad one raises
:class:`ControlError` naming it and changes nothing), keeps the current state, and queues every
change with its time and source so the loop writes it to ``frames.jsonl``. The loop hands the
new state to the dream worker, the selector and the renderer.
"""

from __future__ import annotations

import builtins
import copy
import dataclasses
from dataclasses import dataclass, replace
from typing import Any, Protocol

from dreamengine.errors import DreamengineError
from dreamengine.render import RenderConfig
from dreamengine.sampler import SamplerConfig
from dreamengine.selection import SelectionConfig, class_weights


class _DreamSection(Protocol):
    @property
    def keyframes_per_s(self) -> float: ...
    @property
    def seed(self) -> int: ...


class Sections(Protocol):
    """What the bus reads of the engine's config (the engine's ``EngineConfig`` has it)."""

    @property
    def sampler(self) -> SamplerConfig: ...
    @property
    def selection(self) -> SelectionConfig: ...
    @property
    def render(self) -> RenderConfig: ...
    @property
    def dream(self) -> _DreamSection: ...


class ControlError(DreamengineError):
    """A control message with an unknown name or a bad value; nothing was changed."""


@dataclass(frozen=True)
class Param:
    kind: type  # float, int or bool
    low: float = 0.0
    high: float = 1.0
    unit: str = ""
    help: str = ""


_SAMPLER = {
    "eps1": Param(float, 0.0, 5.0, "", "weight of the latent prior term"),
    "eps2": Param(float, 0.0, 10.0, "", "weight of the class term"),
    "eps3": Param(float, 0.0, 1.0, "latent units", "noise added per step"),
    "lr": Param(float, 0.0, 1.0, "latent units", "mean |Δh| of the class term per step"),
    "steps_per_keyframe": Param(int, 1, 64, "steps", "PPGN steps between keyframes"),
    "clip": Param(float, 0.5, 10.0, "latent units", "|h| never exceeds this"),
    "spatial": Param(bool, help="one region of the canvas per selected class"),
    "alternate_eyes": Param(bool, help="a target on several vision networks climbs one per "
                            "step, in turn by weight (off: all of them in every step)"),
    "zoom_per_s": Param(float, 0.5, 2.0, "×/s", "how fast the dreamed canvas zooms into itself"),
    "rotate_deg_per_s": Param(float, -45.0, 45.0, "°/s", "how fast the dreamed canvas turns"),
    "view_px": Param(int, 0, 1024, "px",
                     "size the vision network sees the canvas at (0: the whole canvas)"),
    "renew": Param(float, 0.0, 1.0, "share", "detail erased when the leading class changes"),
    "renew_after_s": Param(float, 0.0, 30.0, "s",
                           "how long a new leading class leads before the canvas is renewed"),
    "coarse_keyframes": Param(int, 0, 100_000, "keyframes",
                              "dreamed at half size after a fresh start or a change of class"),
}
_SELECTION = {
    "attack_s": Param(float, 0.0, 10.0, "s", "rise time of the smoothed probabilities"),
    "release_s": Param(float, 0.0, 30.0, "s", "fall time of the smoothed probabilities"),
    "confirm_s": Param(float, 0.0, 2.0, "s", "a class held this long shows at once (0 = off)"),
    "confirm_hits": Param(int, 0, 100, "hops", "hops within confirm_s, the newest among "
                          "them, that must reach a value (0 = all; 1 counts as 2)"),
    "top_k": Param(int, 1, 8, "classes", "classes that steer at once"),
    "floor": Param(float, 0.0, 1.0, "probability", "below this a class steers nothing"),
    "temperature": Param(float, 0.05, 10.0, "", "< 1 favours the loudest class"),
    "gate_db": Param(float, -120.0, 0.0, "dBFS", "quieter input counts as silence"),
    "blend_alternatives": Param(bool, help="a label with several image classes blends them "
                                "(off: one at a time)"),
    "hold_s": Param(float, 0.0, 60.0, "s", "the last target steers this long after nothing "
                    "is heard"),
    "keep_choice_s": Param(float, 0.0, 600.0, "s", "a label silent this long draws its image "
                           "class anew"),
}
_RENDER = {
    "crossfade_s": Param(float, 0.0, 10.0, "s", "keyframe cross-fade time"),
    "zoom_per_s": Param(float, 0.1, 3.0, "×/s", "canvas scale per second"),
    "rotate_deg_per_s": Param(float, -90.0, 90.0, "°/s", "rotation speed"),
    "drift_x_per_s": Param(float, -1.0, 1.0, "widths/s", "sideways drift"),
    "drift_y_per_s": Param(float, -1.0, 1.0, "heights/s", "vertical drift"),
    "decay_per_s": Param(float, 0.0, 1.0, "share/s", "trail length"),
    "keyframe_tau_s": Param(float, 0.0, 10.0, "s", "how fast the canvas takes the keyframe"),
    "brightness": Param(float, -1.0, 1.0, "", "added brightness"),
    "contrast": Param(float, 0.0, 4.0, "", "gain about mid-grey"),
    "saturation": Param(float, 0.0, 4.0, "", "colour saturation"),
    "hue_deg": Param(float, -180.0, 180.0, "°", "hue rotation"),
    "sharpen": Param(float, 0.0, 4.0, "", "unsharp-mask amount"),
    "overlay": Param(bool, help="show classes and parameters"),
    "pulse_scale": Param(float, 0.0, 0.5, "fraction", "swell on an onset"),
    "pulse_brightness": Param(float, 0.0, 1.0, "", "flash on an onset"),
    "bass_zoom": Param(float, 0.0, 10.0, "×", "extra zoom speed at full bass"),
    "level_brightness": Param(float, 0.0, 1.0, "", "brightness range from loudness"),
    "treble_saturation": Param(float, 0.0, 4.0, "×", "extra saturation at full treble"),
}
PARAMS: dict[str, Param] = {
    **{f"sampler.{k}": v for k, v in _SAMPLER.items()},
    **{f"selection.{k}": v for k, v in _SELECTION.items()},
    **{f"render.{k}": v for k, v in _RENDER.items()},
    "dream.keyframes_per_s": Param(float, 0.5, 120.0, "1/s", "keyframes published per second"),
}
# per-class controls: weight.LABEL (factor), pin.LABEL and mute.LABEL (on/off)
CLASS_CONTROLS = {"weight": Param(float, 0.0, 10.0, "×", "user weight of a class"),
                  "pin": Param(bool, help="always dream this class"),
                  "mute": Param(bool, help="never dream this class")}
ACTIONS = ("reset", "reseed", "record", "fullscreen", "quit")


class Controls:
    """The live state and its change log."""

    def __init__(self, config: Sections, classes: tuple[str, ...]) -> None:
        self.sampler: SamplerConfig = config.sampler
        self.selection: SelectionConfig = config.selection
        self.render: RenderConfig = config.render
        self.keyframes_per_s = config.dream.keyframes_per_s
        self.seed = config.dream.seed
        self.classes = classes  # names valid after weight./pin./mute.
        self.pending: list[dict[str, Any]] = []  # changes not yet written to frames.jsonl
        self.actions: list[str] = []  # actions the loop has not carried out yet
        self.dirty: builtins.set[str] = builtins.set()  # sections changed since last looked

    def copy(self) -> Controls:
        """The same state with an empty change log (to try changes on)."""
        other = copy.copy(self)
        other.pending, other.actions, other.dirty = [], [], builtins.set()
        return other

    def get(self, name: str) -> Any:
        """The current value of a parameter or class control."""
        section, _, key = name.partition(".")
        if section in CLASS_CONTROLS:
            self._check_class(name, key)
            if section == "weight":
                return class_weights(self.selection.weights).get(key, 1.0)
            return key in getattr(self.selection, section + "s")
        if name not in PARAMS:
            raise ControlError(f"unknown control {name!r}")
        if section == "dream":
            return self.keyframes_per_s
        return getattr(getattr(self, section), key)

    def set(self, name: str, value: Any, source: str = "api", t: float | None = None) -> Any:
        """Set ``name`` to ``value``; returns the value applied. Raises :class:`ControlError`
        for an unknown name, a wrong type or an out-of-range value."""
        section, _, key = name.partition(".")
        if section in CLASS_CONTROLS:
            self._check_class(name, key)
            value = _checked(name, CLASS_CONTROLS[section], value)
            self._set_class(section, key, value)
        elif name in PARAMS:
            value = _checked(name, PARAMS[name], value)
            if section == "dream":
                self.keyframes_per_s = value
            else:
                setattr(self, section, replace(getattr(self, section), **{key: value}))
        else:
            raise ControlError(f"unknown control {name!r}")
        self.dirty.add(section if section in ("sampler", "render", "dream") else "selection")
        self.pending.append({"t": t, "control": name, "value": value, "source": source})
        return value

    def act(self, action: str, source: str = "api", t: float | None = None) -> None:
        """Queue an action (reset, reseed, record, fullscreen, quit) for the loop."""
        if action not in ACTIONS:
            raise ControlError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
        if action == "reseed":
            self.seed += 1
        self.actions.append(action)
        value = self.seed if action == "reseed" else None
        self.pending.append({"t": t, "control": action, "value": value, "source": source})

    def drain(self) -> list[dict[str, Any]]:
        """The changes since the last call (for ``frames.jsonl``)."""
        out, self.pending = self.pending, []
        return out

    def take_actions(self) -> list[str]:
        out, self.actions = self.actions, []
        return out

    def take_dirty(self) -> builtins.set[str]:
        out, self.dirty = self.dirty, builtins.set()
        return out

    def state(self) -> dict[str, Any]:
        """Every parameter's current value (for a status query or a preset)."""
        out: dict[str, Any] = {name: self.get(name) for name in PARAMS}
        out["selection.weights"] = list(self.selection.weights)
        out["selection.pins"] = list(self.selection.pins)
        out["selection.mutes"] = list(self.selection.mutes)
        return out

    def _check_class(self, name: str, key: str) -> None:
        if key not in self.classes:
            raise ControlError(f"unknown class in {name!r}; known: {', '.join(self.classes)}")

    def _set_class(self, section: str, key: str, value: Any) -> None:
        sel = self.selection
        if section == "weight":
            weights = class_weights(sel.weights)
            weights[key] = value
            items = tuple(f"{k}:{v:g}" for k, v in weights.items() if v != 1.0)
            self.selection = replace(sel, weights=items)
            return
        names = sel.pins if section == "pin" else sel.mutes
        names = tuple(n for n in names if n != key) + ((key,) if value else ())
        if section == "pin":
            self.selection = replace(sel, pins=names)
        else:
            self.selection = replace(sel, mutes=names)


def _checked(name: str, param: Param, value: Any) -> Any:
    if param.kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "on", "1", "false", "off", "0"):
            return value.lower() in ("true", "on", "1")
        raise ControlError(f"{name} takes on/off, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ControlError(f"{name} takes a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ControlError(f"{name} takes a number, got {value!r}") from None
    if not param.low <= number <= param.high:  # also rejects NaN
        raise ControlError(f"{name} must be within {param.low:g}..{param.high:g} "
                           f"{param.unit}".rstrip() + f", got {value!r}")
    if param.kind is int:
        if number != int(number):
            raise ControlError(f"{name} takes a whole number, got {value!r}")
        return int(number)
    return number


def describe() -> list[dict[str, Any]]:
    """One entry per control, for docs and status queries."""
    rows = [{"name": n, "type": p.kind.__name__, "low": p.low, "high": p.high, "unit": p.unit,
             "help": p.help} for n, p in PARAMS.items()]
    rows += [{"name": f"{n}.LABEL", "type": p.kind.__name__, "low": p.low, "high": p.high,
              "unit": p.unit, "help": p.help} for n, p in CLASS_CONTROLS.items()]
    return rows


def check_config_fields() -> list[str]:
    """Dataclass fields that have no control (kept visible by a test, so none is forgotten)."""
    missing = []
    for section, cls in (("sampler", SamplerConfig), ("selection", SelectionConfig),
                         ("render", RenderConfig)):
        for f in dataclasses.fields(cls):
            if f"{section}.{f.name}" not in PARAMS:
                missing.append(f"{section}.{f.name}")
    return missing


def check_ranges(config: Sections) -> None:
    """Every value of ``config`` that has a control lies in that control's range: the same
    table checks TOML files, ``--set``, OSC, MIDI and presets. Raises naming the key."""
    for name, param in PARAMS.items():
        section, key = name.split(".")
        value = getattr(getattr(config, section), key)
        try:
            _checked(name, param, value)
        except ControlError as exc:
            raise DreamengineError(f"invalid config: {exc}") from None
