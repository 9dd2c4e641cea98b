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
from typing import Any

import torch

from dreamengine import __version__
from dreamengine.audio import FileSource
from dreamengine.clock import FixedStepClock
from dreamengine.dream import Dream
from dreamengine.engine.build import Models, load_models, make_dream, resolve_device
from dreamengine.engine.config import EngineConfig
from dreamengine.engine.hearing import Hearing
from dreamengine.engine.pipeline import Listening, Pipeline, SteppedDream
from dreamengine.engine.show import Show
from dreamengine.recording import RecordingSummary, SessionRecorder
from dreamengine.render import Renderer, create_headless_context


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
                 fps: float | None, source: Path | None) -> dict[str, Any]:
    """What ``session.json`` records: enough to rebuild the networks and re-render. The input
    is kept as an absolute path (None for a microphone), so replay finds it from anywhere."""
    return {
        "version": 1, "dreamengine": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "input": None if source is None else str(Path(source).resolve()),
        "size": list(size), "fps": fps,
        "latent_dim": dream.latent_dim,
        "keyframe_size": dream.key_size,
        "dream_backend": config.dream.backend,
        "image_prior": models.image_source,
        "torch_threads": torch.get_num_threads(),
        "config": dataclasses.asdict(config),
    }


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
    meta = session_meta(config, models, dream, request.size, request.fps, request.input)
    recorder = SessionRecorder(request.out_dir, config.recording, meta, live=False)
    duration = source.duration if request.seconds is None else request.seconds
    n_frames = max(1, round(duration * request.fps))
    hearing = Hearing(source, config, models)

    ctx = create_headless_context()
    renderer = Renderer(ctx, request.size, dream.key_size, config.render)
    pipeline = Pipeline(Listening(hearing, config.render, config.sampler),
                        SteppedDream(dream, config.dream.keyframes_per_s),
                        Show(renderer, recorder))
    clock = FixedStepClock(1.0 / request.fps)
    try:
        for index in range(n_frames):
            pipeline.step(clock.now(), clock.dt)
            clock.tick()
            if progress is not None:
                progress(index + 1, n_frames)
    finally:
        summary = recorder.close()
        renderer.release()
        ctx.release()
    return RenderSummary(n_frames, pipeline.show.keyframes, dream.resets, summary,
                         pipeline.timer.summary(), models.warnings)
