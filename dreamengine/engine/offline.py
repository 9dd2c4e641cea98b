"""Offline rendering: an audio file in, PNG frames and ``frames.jsonl`` out, deterministically.

Time comes from a fixed-step clock at the output frame rate, so a render is the same on any
machine: audio up to each frame's time is heard, the dream publishes keyframes at
``dream.keyframes_per_s``, and the renderer cross-fades and upscales them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dreamengine.audio import FileSource
from dreamengine.classifier import StreamingClassifier
from dreamengine.clock import FixedStepClock
from dreamengine.engine.build import load_models, resolve_device
from dreamengine.engine.config import EngineConfig
from dreamengine.engine.dream import Dream
from dreamengine.engine.timing import StageTimer
from dreamengine.features import StreamingLogMel
from dreamengine.recording import FrameLog, PngSequenceWriter, prepare_output_dir
from dreamengine.render import Renderer, create_headless_context
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
    stages: dict[str, dict[str, float]]  # per-stage timing, see StageTimer.summary
    warnings: list[str]


def render_file(config: EngineConfig, request: RenderRequest,
                progress: Callable[[int, int], None] | None = None) -> RenderSummary:
    """Render ``request.input`` into ``request.out_dir``; see the module docstring."""
    source = FileSource(request.input, config.audio)
    out_dir = prepare_output_dir(request.out_dir)
    duration = source.duration if request.seconds is None else request.seconds
    n_frames = max(1, round(duration * request.fps))

    torch.set_num_threads(config.dream.torch_threads)
    device = resolve_device(config.dream.device)
    models = load_models(config, device)
    mel = StreamingLogMel(config.features)
    hearing = StreamingClassifier(models.sound, config.features.log_floor, torch.device("cpu"))
    selector = Selector(config.selection, models.sound.config.labels, models.class_map)
    dream = Dream(models.image, config.sampler, config.dream.seed, device)
    hop_s = config.classifier.hop_frames * config.features.hop_length / config.features.sr

    ctx = create_headless_context()
    renderer = Renderer(ctx, request.size, models.image.config.generator.size, config.render)
    writer = PngSequenceWriter(out_dir, config.recording, block=True)
    timer = StageTimer()
    clock = FixedStepClock(1.0 / request.fps)
    key_interval = 1.0 / config.dream.keyframes_per_s
    next_key_t, keyframes = 0.0, 0
    selection = Selection(np.zeros(len(selector.labels), np.float32))
    sampler_params = dataclasses.asdict(config.sampler)
    try:
        with FrameLog(out_dir / "frames.jsonl") as log:
            for index in range(n_frames):
                t = clock.now()
                with timer.stage("features"):
                    frames = mel.push(source.read_until(t))
                with timer.stage("classify"):
                    vectors = hearing.push(frames)
                for probs in vectors:
                    selection = selector.update(probs, hop_s)
                while next_key_t <= t:
                    with timer.stage("dream_keyframe"):
                        key = dream.keyframe(selection.target)
                    renderer.push_keyframe(key.image, next_key_t)
                    next_key_t += key_interval
                    keyframes += 1
                with timer.stage("render"):
                    renderer.render(t)
                    rgb = renderer.read()
                with timer.stage("encode_submit"):
                    name = writer.submit(index, rgb)
                log.write({
                    "file": name, "index": index, "t": t,
                    "probs": dict(zip(selector.labels, selection.probs, strict=True)),
                    "target": selection.target, "sampler": sampler_params,
                    "keyframe": keyframes - 1,
                })
                clock.tick()
                if progress is not None:
                    progress(index + 1, n_frames)
    finally:
        writer.close()
        renderer.release()
        ctx.release()
    return RenderSummary(n_frames, keyframes, dream.resets, timer.summary(), models.warnings)
