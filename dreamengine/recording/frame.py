"""One line of ``frames.jsonl``: what was heard, dreamed and drawn in one frame.

Written by every run that renders (``live``, ``render``, ``replay``) and read back by
``replay``. The line keeps its historical layout: ``file``, ``index``, ``t``, then what was
heard (``probs``, ``target``, ``drive``), the sampler parameters, the live-only fields, then
``record``, ``render`` (the frame's drawing parameters) and ``keyframe``. Fields this version
does not know are kept in :attr:`FrameRecord.extra` and written back unchanged, so a line from
another version survives a replay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class FrameRecord:
    index: int  # frame number from 0
    t: float  # s since the start of the show
    probs: Mapping[str, float]  # smoothed sound probabilities by label
    target: Mapping[str, float]  # image-class weights driving the dream
    drive: Mapping[str, float]  # the fast path's values (onset, level, bands)
    sampler: Mapping[str, Any]  # the sampler parameters in force
    render: Mapping[str, Any]  # the frame's drawing parameters (FrameParams as a mapping)
    keyframe: int  # index of the newest keyframe shown (-1: none yet)
    record: bool = True  # offered to the recording (live records at its own frame rate)
    file: str | None = None  # the PNG it was written to (None: not written)
    audio_overflows: int | None = None  # input overflows so far (live)
    controls: tuple[Mapping[str, Any], ...] = ()  # control changes in this frame (live)
    extra: Mapping[str, Any] = field(default_factory=dict)  # fields of other versions

    def line(self) -> dict[str, Any]:
        """The ``frames.jsonl`` object (``file`` first; absent live-only fields left out)."""
        out: dict[str, Any] = {"file": self.file, "index": self.index, "t": self.t,
                               "probs": self.probs, "target": self.target, "drive": self.drive,
                               "sampler": self.sampler}
        if self.audio_overflows is not None:
            out["audio_overflows"] = self.audio_overflows
        if self.controls:
            out["controls"] = list(self.controls)
        out.update(self.extra)
        out.update(record=self.record, render=self.render, keyframe=self.keyframe)
        return out

    @classmethod
    def from_line(cls, line: Mapping[str, Any]) -> FrameRecord:
        """A record from a ``frames.jsonl`` object; a missing ``index``, ``t``, ``render`` or
        ``keyframe`` raises ``KeyError`` naming it."""
        return cls(index=int(line["index"]), t=line["t"], probs=line.get("probs", {}),
                   target=line.get("target", {}), drive=line.get("drive", {}),
                   sampler=line.get("sampler", {}), render=line["render"],
                   keyframe=int(line["keyframe"]), record=bool(line.get("record", True)),
                   file=line.get("file"), audio_overflows=line.get("audio_overflows"),
                   controls=tuple(line.get("controls", ())),
                   extra={k: v for k, v in line.items() if k not in _LINE_FIELDS})


_LINE_FIELDS = frozenset(f.name for f in fields(FrameRecord)) - {"extra"}
