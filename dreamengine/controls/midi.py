"""MIDI control change → the control bus: a saved map, a learn mode, and the input port.

The only module that imports mido (with the python-rtmidi backend). :class:`MidiMap` is plain
logic: a binding sends a CC's 0–127 over the bound parameter's whole range (a switch turns on at
64 and up); learn mode binds the next CC that moves to the armed control. :class:`MidiInput`
opens a port by (part of) its name; its callback only queues messages for the render loop.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dreamengine.config import read_toml, toml_value
from dreamengine.controls.bus import ACTIONS, CLASS_CONTROLS, PARAMS, ControlError, Param
from dreamengine.controls.presets import is_preset_name
from dreamengine.errors import DreamengineError
from dreamengine.recording.files import atomic_write_bytes

Key = tuple[int, int]  # (channel 1–16, controller 0–127)


BUTTON_ACTIONS = tuple(a for a in ACTIONS if a != "quit")  # a stray pad must not end the show


def is_button(name: str) -> bool:
    """Controls a pad triggers on press (rather than a knob sweeping): the actions and
    ``preset.NAME`` (recall that preset)."""
    return name in BUTTON_ACTIONS or (name.startswith("preset.") and is_preset_name(name[7:]))


def check_control(name: str) -> None:
    """Raise :class:`ControlError` unless ``name`` can be bound to a MIDI control."""
    if not is_button(name):
        param_of(name)


def param_of(name: str) -> Param:
    if name in PARAMS:
        return PARAMS[name]
    section = name.partition(".")[0]
    if section in CLASS_CONTROLS:
        return CLASS_CONTROLS[section]
    raise ControlError(f"unknown control {name!r}")


def scaled(param: Param, value: int) -> Any:
    """A CC value 0–127 as a value of ``param``."""
    if param.kind is bool:
        return value >= 64
    x = param.low + (param.high - param.low) * min(max(value, 0), 127) / 127.0
    return round(x) if param.kind is int else x


@dataclass
class MidiMap:
    bindings: dict[Key, str] = field(default_factory=dict)
    learning: str | None = None  # the control the next moving CC binds to
    _last: dict[Key, int] = field(default_factory=dict)  # each pad's last value (press edges)

    def learn(self, name: str) -> None:
        check_control(name)  # unknown names raise
        self.learning = name

    def feed(self, channel: int, control: int, value: int) -> tuple[str, Any] | None:
        """A CC message → ``(control name, value)`` to set, or None if it is not bound. A
        pad (an action or ``preset.NAME``) gives ``(name, None)`` once per press (the value
        crossing 64 upward), whether the pad sends 127/0 or only 127."""
        key = (channel, control)
        if self.learning is not None:
            self.bindings = {k: v for k, v in self.bindings.items() if v != self.learning}
            self.bindings[key] = self.learning
            self.learning = None
        name = self.bindings.get(key)
        if name is None:
            return None
        if is_button(name):
            last, self._last[key] = self._last.get(key, 0), value
            pressed = value >= 64 and (last < 64 or value == last == 127)  # 127-only pads too
            return (name, None) if pressed else None
        return name, scaled(param_of(name), value)

    def save(self, path: Path) -> None:
        lines = ["# dreamengine MIDI map: [[cc]] channel (1-16), controller (0-127), control"]
        for (ch, cc), name in sorted(self.bindings.items()):
            lines.append(f"\n[[cc]]\nchannel = {ch}\ncontroller = {cc}\n"
                         f"control = {toml_value(name)}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))
        except OSError as exc:
            raise DreamengineError(f"cannot write MIDI map {path}: {exc.strerror or exc}") from None

    @classmethod
    def load(cls, path: Path) -> MidiMap:
        raw = read_toml(path, "MIDI map")
        bindings: dict[Key, str] = {}
        for i, row in enumerate(raw.get("cc", [])):
            try:
                ch, cc, name = int(row["channel"]), int(row["controller"]), str(row["control"])
                check_control(name)
            except (KeyError, TypeError, ValueError, ControlError) as exc:
                raise DreamengineError(
                    f"MIDI map {path}: entry {i + 1} is not valid: {exc}") from None
            if not (1 <= ch <= 16 and 0 <= cc <= 127):
                raise DreamengineError(f"MIDI map {path}: entry {i + 1}: channel 1-16, "
                                       "controller 0-127")
            bindings[(ch, cc)] = name
        return cls(bindings)


def input_names() -> list[str]:
    import mido

    try:
        return list(mido.get_input_names())
    except Exception:  # no MIDI system (no ALSA sequencer): no ports
        return []


class MidiInput:
    """An open MIDI input; control changes queue up for :meth:`drain` (never blocks)."""

    def __init__(self, name: str) -> None:
        import mido

        names = input_names()
        matches = [n for n in names if name.lower() in n.lower()]
        if not matches:
            listed = ", ".join(names) if names else "none found"
            raise DreamengineError(f"no MIDI input matches {name!r}; inputs: {listed}")
        self.name = matches[0]
        self._queue: deque[tuple[int, int, int]] = deque(maxlen=1024)
        self._lock = threading.Lock()
        try:
            self._port = mido.open_input(self.name, callback=self._on_message)
        except Exception as exc:
            raise DreamengineError(f"cannot open MIDI input {self.name!r}: {exc}") from None

    def _on_message(self, message: Any) -> None:
        if message.type == "control_change":
            with self._lock:
                self._queue.append((message.channel + 1, message.control, message.value))

    def drain(self) -> list[tuple[int, int, int]]:
        """Control changes ``(channel 1–16, controller, value)`` since the last call."""
        with self._lock:
            out = list(self._queue)
            self._queue.clear()
        return out

    def close(self) -> None:
        self._port.close()
