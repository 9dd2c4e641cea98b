"""One frame step for ``live``, ``render`` and ``replay``: hear, dream, draw, record.

:meth:`Pipeline.step` takes the frame's time and advances everything by one frame: it asks its
:class:`Inputs` what is heard and how to draw (live and render hear an audio source;
replay reads the recorded values), shows the keyframes its :class:`Keyframes` has due (render
steps the dream itself at a fixed rate, live takes what the dream process published, replay
re-simulates the recorded ones), draws the frame and hands it to the recorder. It returns the
frame's :class:`~dreamengine.recording.frame.FrameRecord`. The drivers only choose the clock:
the wall clock (live), a fixed step (render) or the recorded times (replay).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from dreamengine.dream import Dream, Keyframe, Transport
from dreamengine.engine.hearing import Hearing
from dreamengine.engine.show import Show
from dreamengine.engine.timing import StageTimer
from dreamengine.recording.frame import FrameRecord
from dreamengine.render import FrameParams, RenderConfig, frame_params
from dreamengine.sampler import SamplerConfig


@dataclass(frozen=True)
class FrameInputs:
    """What one frame is made of, before any keyframe or pixel."""

    probs: Mapping[str, float]
    target: Mapping[str, float]  # image-class weights for the dream
    drive: Mapping[str, Any]
    sampler: Mapping[str, Any]  # the sampler parameters in force (for the record)
    params: FrameParams  # how to draw the frame
    recorded: FrameRecord | None = None  # replay: the frame as it was recorded


class Inputs(Protocol):
    def inputs(self, t: float, dt: float, timer: StageTimer) -> FrameInputs: ...


@dataclass(frozen=True)
class ShownKey:
    """A keyframe to show from time ``t``, with what the recording keeps of it."""

    image: np.ndarray  # [S, S, 3] uint8
    t: float
    latent: np.ndarray
    record: dict[str, Any]


class Keyframes(Protocol):
    def due(self, t: float, inputs: FrameInputs, timer: StageTimer) -> list[ShownKey]: ...


def keyframe_record(key: Keyframe, target: Mapping[str, float],
                    sampler: Mapping[str, Any]) -> dict[str, Any]:
    """What ``keyframes.jsonl`` keeps of a keyframe: enough to re-simulate a canvas dream."""
    return {"target": target, "step": key.step, "dt": key.dt, "seed": key.seed,
            "reset": key.reset, "renewed": key.renewed, "coarse": key.coarse,
            "sampler": sampler}


class Listening:
    """Inputs from an audio source (live and render): hearing, selection, render settings."""

    def __init__(self, hearing: Hearing, render: RenderConfig, sampler: SamplerConfig) -> None:
        self.hearing = hearing
        self.render = render
        self.sampler = dataclasses.asdict(sampler)

    def inputs(self, t: float, dt: float, timer: StageTimer) -> FrameInputs:
        selection = self.hearing.until(t, timer)
        params = frame_params(self.render, t, dt, self.hearing.drive)
        return FrameInputs(self.hearing.probs, selection.target, self.hearing.drive_record(),
                           self.sampler, params)

    def retune(self, render: RenderConfig | None = None, sampler: SamplerConfig | None = None
               ) -> None:
        """Live control changes, from the next frame on."""
        if render is not None:
            self.render = render
        if sampler is not None:
            self.sampler = dataclasses.asdict(sampler)


class SteppedDream:
    """The dream stepped in this thread at a fixed keyframe rate of show time (render)."""

    def __init__(self, dream: Dream, keyframes_per_s: float) -> None:
        self.dream = dream
        self.interval = 1.0 / keyframes_per_s
        self.made = 0  # keyframe k is due at k·interval, counted, not summed (no drift)

    def due(self, t: float, inputs: FrameInputs, timer: StageTimer) -> list[ShownKey]:
        shown = []
        while (due_t := self.made * self.interval) <= t + 1e-9:  # t is the clock's k·dt
            with timer.stage("dream_keyframe"):
                key = self.dream.keyframe(inputs.target, self.interval)
            record = keyframe_record(key, inputs.target, inputs.sampler)
            shown.append(ShownKey(key.image, due_t, key.latent, record))
            self.made += 1
        return shown


class RunningDream:
    """The dream running beside the loop (live): the newest target goes out every frame, the
    newest published keyframe is shown as soon as it is seen."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.seq = 0

    def due(self, t: float, inputs: FrameInputs, timer: StageTimer) -> list[ShownKey]:
        self.transport.request(inputs.target)
        published = self.transport.latest()
        if published is None or published.seq == self.seq:
            return []
        self.seq = published.seq
        key = published.keyframe
        return [ShownKey(key.image, t, key.latent,
                         keyframe_record(key, published.target, inputs.sampler))]


@dataclass
class Pipeline:
    inputs: Inputs
    keyframes: Keyframes
    show: Show
    timer: StageTimer = field(default_factory=StageTimer)
    index: int = 0  # the next frame's number
    rgb: np.ndarray | None = None  # the last frame's pixels, when they were read back

    def step(self, t: float, dt: float, save: bool = True, read: bool = False,
             controls: tuple[Mapping[str, Any], ...] = (),
             audio_overflows: int | None = None) -> FrameRecord:
        """Advance everything to time ``t`` (``dt`` after the last frame) and draw one frame;
        ``save`` offers it to the recording, ``read`` reads its pixels back into :attr:`rgb`
        even when it is not saved (a virtual camera wants every frame)."""
        now = self.inputs.inputs(t, dt, self.timer)
        for key in self.keyframes.due(t, now, self.timer):
            self.show.keyframe(key.image, key.t, key.latent, key.record)
        if now.recorded is not None:  # replay saves what the show saved
            save = now.recorded.record
        with self.timer.stage("render_and_record"):
            record = self._record(now, controls, audio_overflows)
            record, self.rgb = self.show.frame(record, now.params, save=save, read=read)
        self.index = record.index + 1
        return record

    def _record(self, now: FrameInputs, controls: tuple[Mapping[str, Any], ...],
                audio_overflows: int | None) -> FrameRecord:
        was = now.recorded
        record = FrameRecord(
            index=self.index if was is None else was.index, t=now.params.t, probs=now.probs,
            target=now.target, drive=now.drive, sampler=now.sampler,
            render=dataclasses.asdict(now.params), keyframe=self.show.keyframes - 1,
            audio_overflows=audio_overflows, controls=controls)
        if was is not None:  # replay: the live-only fields and unknown ones as recorded
            record = dataclasses.replace(record, controls=was.controls,
                                         audio_overflows=was.audio_overflows, extra=was.extra)
        return record
