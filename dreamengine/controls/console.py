"""The performer's console: keys, OSC and MIDI turned into control-bus calls, presets, queries.

Everything here runs in the render loop's thread, a bounded amount per frame. A message that
cannot be used (unknown address, wrong argument, out of range) is ignored with one log line; the
same complaint is not repeated within ``QUIET_S`` seconds, so a misconfigured controller cannot
flood the console. Nothing a client sends can raise out of :meth:`Console.osc`.

The OSC address space (prefix ``/dreamengine``) is the table :data:`.addresses.ROUTES`: each
row names the ``on_<handler>`` method here that carries it out; the README lists every row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dreamengine.controls.addresses import PREFIX, address_of, route
from dreamengine.controls.bus import ACTIONS, ControlError, Controls
from dreamengine.controls.keys import apply_key
from dreamengine.controls.midi import MidiMap
from dreamengine.controls.presets import PresetFade, preset_path, read_preset, save_preset
from dreamengine.errors import DreamengineError

QUIET_S = 5.0
MAX_FADE_S = 600.0  # s, the longest preset fade a client may ask for
MAX_STATES_PER_FRAME = 4  # /state queries answered per frame (each is ~45 replies)
MAX_SAID = 10  # complaints said per QUIET_S at most
MAX_SUBSCRIBERS = 32  # OSC clients told of every change
Address = tuple[str, int]
Fields = dict[str, str]  # an address's wildcard segments by name
Args = tuple[Any, ...]
Reply = tuple[Address, str, tuple[Any, ...]]
PRESET_KEYS = {str(i): str(i) for i in range(1, 10)}  # key "3" recalls preset "3"


class Console:
    def __init__(self, controls: Controls, presets: Path, midi_map: MidiMap | None = None,
                 midi_map_path: Path | None = None, preset_fade_s: float = 2.0,
                 say: Callable[[str], None] = print) -> None:
        self.controls = controls
        self.presets = presets
        self.midi_map = midi_map or MidiMap()
        self.midi_map_path = midi_map_path
        self.preset_fade_s = preset_fade_s
        self.say = say
        self.fade: PresetFade | None = None
        self.subscribers: set[Address] = set()
        self.ignored = 0  # messages ignored as malformed or out of range
        self._last_said: dict[str, float] = {}
        self._window_start, self._said, self._unsaid = -QUIET_S, 0, 0  # see _complain
        self._states = 0  # state queries answered this frame

    # --- inputs ------------------------------------------------------------------------------

    def key(self, name: str, t: float) -> None:
        """A key from the window: a shortcut, a preset recall (1–9) or save (ctrl+1–9)."""
        if name in PRESET_KEYS:
            self._guard(lambda: self.load_preset(PRESET_KEYS[name], t), f"key {name}")
        elif name.startswith("ctrl+") and name[5:] in PRESET_KEYS:
            self._guard(lambda: self.save_preset(PRESET_KEYS[name[5:]]), f"key {name}")
        else:
            self._guard(lambda: apply_key(name, self.controls, t), f"key {name}")

    def midi(self, channel: int, control: int, value: int, t: float) -> None:
        def run() -> None:
            learning = self.midi_map.learning
            mapped = self.midi_map.feed(channel, control, value)
            if learning is not None:
                self.say(f"MIDI: channel {channel} CC {control} now drives {learning}")
            if mapped is None:
                return
            name, setting = mapped
            if name in ACTIONS:
                self.controls.act(name, source="midi", t=t)
            elif name.startswith("preset."):
                self.load_preset(name[len("preset."):], t)
            else:
                self.controls.set(name, setting, source="midi", t=t)
        self._guard(run, f"MIDI channel {channel} CC {control}")

    def osc(self, address: str, args: tuple[Any, ...], sender: Address, t: float) -> list[Reply]:
        """Act on one OSC message; returns the replies to send. Never raises."""
        replies: list[Reply] = []
        self._guard(lambda: replies.extend(self._osc(address, args, sender, t)),
                    f"OSC {address}")
        return replies

    def _osc(self, address: str, args: tuple[Any, ...], sender: Address,
             t: float) -> list[Reply]:
        found = route(address)
        if found is None:
            raise ControlError("unknown address" if address.startswith(PREFIX + "/")
                               else f"address outside {PREFIX}/")
        row, fields = found
        handler: Callable[..., list[Reply] | None] = getattr(self, f"on_{row.handler}")
        return handler(fields, args, sender, t) or []

    # --- one method per row of the address space (see addresses.ROUTES) ----------------------

    def on_action(self, fields: Fields, args: Args, sender: Address, t: float) -> None:
        self.controls.act(fields["ACTION"], source="osc", t=t)

    def on_get(self, fields: Fields, args: Args, sender: Address, t: float) -> list[Reply]:
        name = f"{fields['SECTION']}.{fields['KEY']}"
        return [(sender, address_of(name), (self._osc_value(name),))]

    def on_state(self, fields: Fields, args: Args, sender: Address, t: float) -> list[Reply]:
        self._states += 1  # each answer is every parameter: a flood would stall the frame
        if self._states > MAX_STATES_PER_FRAME:
            raise ControlError(f"more than {MAX_STATES_PER_FRAME} state queries in one frame")
        return self.state_replies(sender)

    def on_subscribe(self, fields: Fields, args: Args, sender: Address, t: float) -> None:
        port = _one(args, int, "a port") if args else sender[1]
        if not 0 < port < 65536:
            raise ControlError(f"expected a port from 1 to 65535, got {port}")
        if (sender[0], port) not in self.subscribers and len(self.subscribers) >= MAX_SUBSCRIBERS:
            raise ControlError(f"already {MAX_SUBSCRIBERS} subscribers")
        self.subscribers.add((sender[0], port))

    def on_unsubscribe(self, fields: Fields, args: Args, sender: Address, t: float) -> None:
        self.subscribers = {s for s in self.subscribers if s[0] != sender[0]}

    def on_preset_save(self, fields: Fields, args: Args, sender: Address, t: float) -> None:
        self.save_preset(str(_one(args[:1], str, "a preset name")))

    def on_preset_load(self, fields: Fields, args: Args, sender: Address, t: float) -> None:
        name = str(_one(args[:1], str, "a preset name"))
        fade = float(_one(args[1:], (int, float), "a fade in seconds")) if len(args) > 1 else None
        if fade is not None and not 0 <= fade <= MAX_FADE_S:  # inf would hold the controls
            raise ControlError(f"expected a fade from 0 to {MAX_FADE_S:g} s, got {fade}")
        self.load_preset(name, t, fade)

    def on_midi_learn(self, fields: Fields, args: Args, sender: Address, t: float) -> None:
        name = str(_one(args, str, "a control name"))
        self.midi_map.learn(name)
        self.say(f"MIDI learn: move a control to bind it to {name}")

    def on_midi_save(self, fields: Fields, args: Args, sender: Address, t: float) -> None:
        self.save_midi_map()

    def on_set(self, fields: Fields, args: Args, sender: Address, t: float) -> None:
        self.controls.set(f"{fields['SECTION']}.{fields['KEY']}",
                          _one(args, (int, float, str, bool), "one value"), source="osc", t=t)

    def _osc_value(self, name: str) -> Any:
        value = self.controls.get(name)
        return ",".join(value) if isinstance(value, tuple) else value

    def state_replies(self, to: Address) -> list[Reply]:
        out: list[Reply] = []
        for name, value in self.controls.state().items():
            v = ",".join(value) if isinstance(value, list) else value
            out.append((to, address_of(name), (v,)))
        out.append((to, f"{PREFIX}/state/done", ()))
        return out

    # --- presets and the MIDI map ------------------------------------------------------------

    def save_preset(self, name: str) -> Path:
        path = save_preset(self.controls, preset_path(self.presets, name))
        self.say(f"saved preset {name!r} to {path}")
        return path

    def load_preset(self, name: str, t: float, fade_s: float | None = None) -> None:
        path = preset_path(self.presets, name)
        if not path.is_file():
            raise ControlError(f"no preset {name!r} in {self.presets}")
        fade = self.preset_fade_s if fade_s is None else fade_s
        self.fade = PresetFade(self.controls, read_preset(path), t, fade, name)
        self.controls.pending.append({"t": t, "control": "preset", "value": name,
                                      "source": "console", "fade_s": fade})
        self.say(f"preset {name!r}" + (f" (over {fade:g} s)" if fade > 0 else ""))

    def save_midi_map(self) -> None:
        if self.midi_map_path is None:
            raise ControlError("no MIDI map file is set (--midi-map)")
        self.midi_map.save(self.midi_map_path)
        self.say(f"saved the MIDI map to {self.midi_map_path}")

    # --- per frame ---------------------------------------------------------------------------

    def frame(self, t: float) -> None:
        """Advance a preset recall in progress; a new frame's allowance of state queries."""
        self._states = 0
        if self.fade is not None:
            fade = self.fade
            if not self._guard(lambda: fade.step(t), "preset"):
                self.fade = None

    def change_replies(self, changes: list[dict[str, Any]]) -> list[Reply]:
        """The changes of this frame, addressed to every subscriber."""
        out: list[Reply] = []
        for change in changes:
            address = address_of(str(change["control"]))
            value = change["value"]
            args = () if value is None else (",".join(value) if isinstance(value, tuple)
                                             else value,)
            out += [(sub, address, args) for sub in self.subscribers]
        return out

    def _guard(self, fn: Callable[[], Any], what: str) -> Any:
        try:
            return fn()
        except (ControlError, DreamengineError, ValueError, TypeError) as exc:
            self.ignored += 1
            self._complain(f"ignored {what}: {exc}")
            return None

    def _complain(self, message: str) -> None:
        """Say ``message`` unless it was said within ``QUIET_S``, and at most ``MAX_SAID``
        complaints per ``QUIET_S`` in all (a fader sweeping bad values makes a new message per
        value); how many went unsaid is told when the next window opens."""
        now = time.monotonic()
        if now - self._last_said.get(message, -QUIET_S) < QUIET_S:
            return
        if now - self._window_start >= QUIET_S:
            if self._unsaid:
                self.say(f"… and {self._unsaid} more ignored messages not shown")
            self._window_start, self._said, self._unsaid = now, 0, 0
        if self._said >= MAX_SAID:
            self._unsaid += 1
            return
        if len(self._last_said) > 512:  # random addresses must not grow it without end
            self._last_said.clear()
        self._last_said[message] = now
        self._said += 1
        self.say(message)


def _one(args: tuple[Any, ...], kinds: Any, what: str) -> Any:
    if len(args) != 1 or not isinstance(args[0], kinds):
        raise ControlError(f"expected {what}, got {list(args)!r}")
    return args[0]
