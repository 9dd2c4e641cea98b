"""Offline rendering: an audio file in; PNG frames and a replayable session out, deterministically.

Time comes from a fixed-step clock at the output frame rate, so a render is the same on any
machine: audio up to each frame's time is heard, the dream publishes keyframes at
``dream.keyframes_per_s``, and the renderer cross-fades, zooms and upscales them.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from dreamengine import __version__
from dreamengine.audio import FileSource
from dreamengine.classifier import StreamingClassifier
from dreamengine.clock import FixedStepClock
from dreamengine.engine.build import Models, load_models, make_dream, resolve_device
from dreamengine.engine.config import EngineConfig
from dreamengine.engine.dream import Dream, Keyframe
from dreamengine.engine.show import Show
from dreamengine.engine.timing import StageTimer
from dreamengine.features import Drive, Dynamics, StreamingLogMel
from dreamengine.recording import RecordingSummary, SessionRecorder
from dreamengine.render import Renderer, create_headless_context, frame_params
from dreamengine.selection import Selection, Selector


@dataclass(frozen=True)
class RenderRequest:
    input: Path
    out_dir: Path
    size: tuple[int, int]  # output (width, height) in pixels
    fps: float  # output frames per second
    seconds: float | None = None  # render this much of the input; None = all of it


@dataclass(frozen=True)
class RenderSummary:
    frames: int
    keyframes: int
    nan_resets: int
    recording: RecordingSummary
    stages: dict[str, dict[str, float]]  # per-stage timing, see StageTimer.summary
    warnings: list[str]


def session_meta(config: EngineConfig, models: Models, dream: Dream, size: tuple[int, int],
                 fps: float | None, source: str) -> dict[str, Any]:
    """What ``session.json`` records: enough to rebuild the networks and re-render."""
    return {
        "version": 1, "dreamengine": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "input": source, "size": list(size), "fps": fps,
        "latent_dim": dream.latent_dim,
        "keyframe_size": dream.key_size,
        "dream_backend": config.dream.backend,
        "image_prior": models.image_source,
        "torch_threads": torch.get_num_threads(),
        "config": dataclasses.asdict(config),
    }


def keyframe_record(key: Keyframe, target: dict[str, float],
                    sampler: dict[str, Any]) -> dict[str, Any]:
    """What ``keyframes.jsonl`` keeps of a keyframe: enough to re-simulate a canvas dream."""
    return {"target": target, "step": key.step, "dt": key.dt, "seed": key.seed,
            "reset": key.reset, "renewed": key.renewed, "sampler": sampler}


class AudioSource(Protocol):
    @property
    def sr(self) -> int:
        """Sample rate of what ``read_until`` returns (Hz)."""
        ...

    def read_until(self, t: float) -> np.ndarray:
        """Samples from the last read up to time ``t`` (s)."""
        ...


def level_db(samples: np.ndarray) -> float | None:
    """RMS level of ``samples`` in dBFS (−inf for digital silence); None for no samples."""
    if samples.size == 0:
        return None
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * np.log10(rms) if rms > 0 else float("-inf")


class Hearing:
    """Audio → log-mel → sound CNN → selection (the slow path), and log-mel → dynamics (the
    fast path), advanced to a given time."""

    def __init__(self, source: AudioSource, config: EngineConfig, models: Models) -> None:
        self.source = source
        self.mel = StreamingLogMel(config.features)
        self.dynamics = Dynamics(config.dynamics, config.features)
        self.drive = Drive()
        self.classifier = StreamingClassifier(models.sound, config.features.log_floor,
                                              torch.device("cpu"))
        self.selector = Selector(config.selection, models.sound.config.labels, models.class_map,
                                 seed=config.dream.seed)
        self.hop_s = config.classifier.hop_frames * config.features.hop_length / config.features.sr
        self.selection = Selection(np.zeros(len(self.selector.labels), np.float32))
        self.heard = np.zeros(0, np.float32)  # the samples the last ``until`` read

    def until(self, t: float, timer: StageTimer) -> Selection:
        """Hear everything up to ``t``; the new samples stay in :attr:`heard`."""
        self.heard = self.source.read_until(t)
        with timer.stage("features"):
            frames = self.mel.push(self.heard)
            self.drive = self.dynamics.push(frames)
        with timer.stage("classify"):
            vectors = self.classifier.push(frames)
        level = level_db(self.heard)
        for probs in vectors:
            self.selection = self.selector.update(probs, self.hop_s, level)
        return self.selection

    def record(self) -> dict[str, Any]:
        """The frame-log fields describing what is heard and dreamed."""
        return {"probs": dict(zip(self.selector.labels, self.selection.probs, strict=True)),
                "target": self.selection.target, "drive": dataclasses.asdict(self.drive)}


def render_file(config: EngineConfig, request: RenderRequest,
                progress: Callable[[int, int], None] | None = None) -> RenderSummary:
    """Render ``request.input`` into ``request.out_dir``; see the module docstring."""
    source = FileSource(request.input, config.audio)
    try:
        return _render(source, config, request, progress)
    finally:
        source.close()


def _render(source: FileSource, config: EngineConfig, request: RenderRequest,
            progress: Callable[[int, int], None] | None) -> RenderSummary:
    torch.set_num_threads(config.dream.torch_threads)
    device = resolve_device(config.dream.device)
    models = load_models(config, device)
    dream = make_dream(config, models, device)
    meta = session_meta(config, models, dream, request.size, request.fps, str(request.input))
    recorder = SessionRecorder(request.out_dir, config.recording, meta, live=False)
    duration = source.duration if request.seconds is None else request.seconds
    n_frames = max(1, round(duration * request.fps))
    hearing = Hearing(source, config, models)

    ctx = create_headless_context()
    renderer = Renderer(ctx, request.size, dream.key_size, config.render)
    show = Show(renderer, recorder)
    timer, clock = StageTimer(), FixedStepClock(1.0 / request.fps)
    key_interval = 1.0 / config.dream.keyframes_per_s
    next_key_t = 0.0
    sampler = dataclasses.asdict(config.sampler)
    try:
        for index in range(n_frames):
            t = clock.now()
            selection = hearing.until(t, timer)
            while next_key_t <= t:
                with timer.stage("dream_keyframe"):
                    key = dream.keyframe(selection.target, key_interval)
                show.keyframe(key.image, next_key_t, key.latent,
                              keyframe_record(key, selection.target, sampler))
                next_key_t += key_interval
            with timer.stage("render_and_record"):
                params = frame_params(config.render, t, clock.dt, hearing.drive)
                show.frame(index, params, {**hearing.record(), "sampler": sampler})
            clock.tick()
            if progress is not None:
                progress(index + 1, n_frames)
    finally:
        summary = recorder.close()
        renderer.release()
        ctx.release()
    return RenderSummary(n_frames, show.keyframes, dream.resets, summary, timer.summary(),
                         models.warnings)
