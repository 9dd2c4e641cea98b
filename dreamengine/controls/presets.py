"""Presets: the running state saved to a TOML file, and recalled with a soft transition.

A preset file has the config's sections (``[sampler]``, ``[selection]``, ``[render]``,
``[dream]``) with every live parameter, so it also works as a ``--config`` file. Recalling one
glides every number from where it is to the preset's value over ``fade_s`` seconds (a smooth
step, set through the control bus each frame, so the log shows the glide); switches, whole
numbers and class lists change at the start. ``fade_s = 0`` is a cut.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

from dreamengine.config import read_toml, toml_value
from dreamengine.controls.bus import PARAMS, ControlError, Controls
from dreamengine.errors import DreamengineError
from dreamengine.recording.files import atomic_write_bytes

LISTS = ("selection.weights", "selection.pins", "selection.mutes")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # whole names (``$`` let "a\n" in)


def presets_dir() -> Path:
    """``$XDG_CONFIG_HOME/dreamengine/presets`` (``~/.config/…`` by default)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "dreamengine" / "presets"


def is_preset_name(name: str) -> bool:
    """Letters, digits, ``_``, ``-``, ``.``; no path, no quote, no line break, no ``.toml``."""
    return NAME.fullmatch(name) is not None and not name.endswith(".toml")


def preset_path(folder: Path, name: str) -> Path:
    if not is_preset_name(name):
        raise ControlError(f"preset name {name!r}: use letters, digits, '_', '-' or '.'")
    return folder / f"{name}.toml"


def save_preset(controls: Controls, path: Path) -> Path:
    """Write the current state of every live parameter to ``path`` (atomically)."""
    state = controls.state()
    sections: dict[str, list[str]] = {}
    for name, value in state.items():
        section, _, key = name.partition(".")
        sections.setdefault(section, []).append(f"{key} = {toml_value(value)}")
    text = "# dreamengine preset: every live parameter (also usable as --config)\n"
    for section, lines in sections.items():
        text += f"\n[{section}]\n" + "\n".join(lines) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, text.encode("utf-8"))
    except OSError as exc:
        raise DreamengineError(f"cannot write preset {path}: {exc.strerror or exc}") from None
    return path


def read_preset(path: Path) -> dict[str, Any]:
    """The preset's parameters as dotted names; unknown names raise, naming the file."""
    raw = read_toml(path, "preset")
    out: dict[str, Any] = {}
    for section, table in raw.items():
        if not isinstance(table, dict):
            raise DreamengineError(f"preset {path}: [{section}] must be a table")
        for key, value in table.items():
            name = f"{section}.{key}"
            if name not in PARAMS and name not in LISTS:
                raise DreamengineError(f"preset {path}: unknown parameter {name!r}")
            out[name] = value
    return out


class PresetFade:
    """A recall in progress: call :meth:`step` once per frame until it returns False."""

    def __init__(self, controls: Controls, target: dict[str, Any], t: float, fade_s: float,
                 name: str) -> None:
        self.controls = controls
        self.name = name
        self.t0 = t
        self.fade_s = max(0.0, fade_s)
        self.glides: dict[str, tuple[float, float]] = {}
        trial = controls.copy()  # check everything before changing anything
        self._apply(trial, target, t, glide=False)
        self._apply(controls, target, t, glide=self.fade_s > 0)

    def _apply(self, controls: Controls, target: dict[str, Any], t: float, glide: bool) -> None:
        source = f"preset:{self.name}"
        for name, value in target.items():
            if name in LISTS:
                self._set_list(controls, name, value, t)
            elif glide and PARAMS[name].kind is float:
                start = float(controls.get(name))
                if start != float(value):
                    self.glides[name] = (start, float(value))
            else:
                before = controls.get(name)
                controls.set(name, value, source=source, t=t)
                if controls.get(name) == before:
                    controls.pending.pop()  # no change: keep the log to real changes

    def _set_list(self, controls: Controls, name: str, value: Any, t: float) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ControlError(f"preset {self.name}: {name} must be a list of strings")
        section = {"selection.weights": "weight", "selection.pins": "pin",
                   "selection.mutes": "mute"}[name]
        source = f"preset:{self.name}"
        wanted = {}
        for item in value:
            label, _, factor = item.partition(":")
            wanted[label] = factor if section == "weight" else True
        for current in getattr(controls.selection, section + "s"):
            label = current.partition(":")[0]
            if label not in wanted:
                controls.set(f"{section}.{label}", 1.0 if section == "weight" else False,
                             source=source, t=t)
        for label, v in wanted.items():
            controls.set(f"{section}.{label}", v, source=source, t=t)

    def step(self, t: float) -> bool:
        """Move the glides to time ``t``; False once the preset is fully in place."""
        done = self.fade_s <= 0 or t - self.t0 >= self.fade_s
        x = 1.0 if done else (t - self.t0) / self.fade_s
        s = x * x * (3 - 2 * x)  # smooth step: no jolt at either end
        for name, (a, b) in self.glides.items():
            value = b if done else a + (b - a) * s
            if not math.isclose(value, self.controls.get(name), rel_tol=0, abs_tol=1e-12):
                self.controls.set(name, value, source=f"preset:{self.name}", t=t)
        return not done
