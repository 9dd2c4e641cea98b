"""The OSC address space, as data: one row per address pattern, matched in order.

A pattern is a ``/``-separated path under :data:`PREFIX`. Lower-case segments are literal;
``ACTION`` matches one of the bus's actions; any other upper-case segment matches any one
segment and is handed to the handler by that name. The console (:mod:`.console`) names one
method per handler; adding an address is one row here plus that method.
"""

from __future__ import annotations

from dataclasses import dataclass

from dreamengine.controls.bus import ACTIONS

PREFIX = "/dreamengine"


@dataclass(frozen=True)
class Route:
    pattern: str  # e.g. "get/SECTION/KEY"
    handler: str  # the console's method ``on_<handler>``
    args: str  # what the message carries, for the docs
    help: str

    def match(self, parts: list[str]) -> dict[str, str] | None:
        """The wildcard segments of ``parts`` by name, or None when they do not fit."""
        segments = self.pattern.split("/")
        if len(segments) != len(parts):
            return None
        fields = {}
        for segment, part in zip(segments, parts, strict=True):
            if segment == "ACTION":
                if part not in ACTIONS:
                    return None
                fields[segment] = part
            elif segment.isupper():
                fields[segment] = part
            elif segment != part:
                return None
        return fields


ROUTES = (
    Route("ACTION", "action", "", "reset, reseed, record, fullscreen or quit"),
    Route("get/SECTION/KEY", "get", "", f"reply {PREFIX}/SECTION/KEY VALUE to the sender"),
    Route("state", "state", "", f"reply every parameter, then {PREFIX}/state/done"),
    Route("subscribe", "subscribe", "[port]", "send every change to the sender from now on"),
    Route("unsubscribe", "unsubscribe", "", "stop that"),
    Route("preset/save", "preset_save", "name", "save the running state"),
    Route("preset/load", "preset_load", "name [fade s]", "recall it, gliding (0: cut)"),
    Route("midi/learn", "midi_learn", "control name", "bind the next MIDI CC that moves"),
    Route("midi/save", "midi_save", "", "write the MIDI map"),
    Route("SECTION/KEY", "set", "value", "set a parameter or a class control"),
)


def route(address: str) -> tuple[Route, dict[str, str]] | None:
    """The first row that ``address`` fits, with its wildcard segments; None for an address
    outside the space."""
    if not address.startswith(PREFIX + "/"):
        return None
    parts = address[len(PREFIX) + 1 :].split("/")
    for row in ROUTES:
        fields = row.match(parts)
        if fields is not None:
            return row, fields
    return None


def address_of(name: str) -> str:
    """The address of a control or action: ``sampler.eps2`` → ``/dreamengine/sampler/eps2``,
    ``weight.dog`` → ``/dreamengine/weight/dog``, ``reset`` → ``/dreamengine/reset``."""
    section, _, key = name.partition(".")
    return f"{PREFIX}/{section}/{key}" if key else f"{PREFIX}/{section}"
