"""Per-stage figures for ``dreamengine bench`` and ``benchmarks/``: warm up, then take medians.

Times are wall-clock on whatever else the machine is doing; compare ratios within one run.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from dreamengine.classifier import SoundCNN, SoundModel, StreamingClassifier
from dreamengine.dream.state import Dream
from dreamengine.engine.build import load_sound_model, resolve_device
from dreamengine.engine.config import EngineConfig
from dreamengine.features import StreamingLogMel
from dreamengine.models import CenterNet, ImagePrior, ImagePriorConfig
from dreamengine.models.efficientnet_lite import EfficientNetLite
from dreamengine.models.eyes import Eyes
from dreamengine.models.imagenet_eye import ImageNetEye
from dreamengine.models.vision import VisionNet
from dreamengine.recording import encode_png
from dreamengine.render import Renderer, create_headless_context, frame_params
from dreamengine.sampler import SamplerConfig

PRIOR_SIZES = (64, 128)  # the latent (emoji) dream's generator sizes
CANVAS_SIZES = (192, 256)  # the canvas dream's sizes
RENDER_SIZES = ((640, 360), (1280, 720), (1920, 1080), (3840, 2160))


def median_ms(fn: Callable[[], object], repeats: int, warmup: int = 3) -> float:
    """Median wall time of ``fn()`` in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return float(np.median(times))


def bench_hearing(config: EngineConfig, model: SoundModel | None = None) -> dict[str, float]:
    """Per-hop costs: the log-mel front end, the streaming classifier (its inference copy) and,
    for comparison, the training module's own eval forward on the same window. ``model``: the
    network to time (a loaded bundle, whose width may differ from the config's); default a
    random one of the config's architecture (the cost does not depend on the weights)."""
    mel = StreamingLogMel(config.features)
    rng = np.random.default_rng(0)
    hop = (0.1 * rng.standard_normal(config.features.hop_length)).astype(np.float32)
    features = median_ms(lambda: mel.push(hop), repeats=2000, warmup=50)
    model = (model if model is not None else SoundCNN(config.classifier)).eval()
    stream = StreamingClassifier(model, config.features.log_floor, torch.device("cpu"),
                                 config.classifier.hop_frames)
    window = rng.standard_normal((model.config.n_mels, model.config.window_frames))
    window32 = window.astype(np.float32)
    batch = torch.from_numpy(window32)[None, None]

    @torch.inference_mode()
    def module() -> torch.Tensor:
        return torch.sigmoid(model(batch))

    classify, plain = [], []
    for _ in range(3):  # interleaved, so both see the same load
        classify.append(median_ms(lambda: stream.classify(window32), repeats=100, warmup=10))
        plain.append(median_ms(module, repeats=100, warmup=10))
    return {"features_hop_ms": features, "classify_hop_ms": float(np.median(classify)),
            "module_hop_ms": float(np.median(plain))}


def bench_dream(config: EngineConfig, size: int, device: torch.device,
                base: ImagePriorConfig | None = None) -> dict[str, float]:
    """Step and keyframe times of random networks with ``base``'s (default: the config's)
    architecture, the generator at ``size`` px."""
    base = base or config.prior
    prior_cfg = replace(base, generator=replace(base.generator, size=size))
    prior = ImagePrior.random(prior_cfg, seed=0).to(device)
    one_step = replace(config.sampler, steps_per_keyframe=1)
    dream = Dream(prior, one_step, seed=0, device=device)
    step = median_ms(lambda: dream.keyframe({"dog": 0.6, "bird": 0.4}), repeats=20)
    dream.params = config.sampler
    key = median_ms(lambda: dream.keyframe({"dog": 0.6, "bird": 0.4}), repeats=10)
    return {"dream_step_ms": step, "keyframes_per_s": 1000.0 / key}


def bench_canvas(config: EngineConfig, size: int, device: torch.device) -> dict[str, float]:
    """Step and keyframe times of the canvas dream at ``size`` px (the CenterNet architecture
    with random weights: the cost does not depend on the weights)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = VisionNet(CenterNet()).to(device)
    target = {"dog": 0.6, "bird": 0.4}
    steady = replace(config.sampler, coarse_keyframes=0)  # full-size steps: no coarse phase
    one_step = replace(steady, steps_per_keyframe=1)
    coarse = Dream(net, replace(one_step, coarse_keyframes=1_000_000), seed=0, device=device,
                   canvas_px=size)
    coarse_step = median_ms(lambda: coarse.keyframe(target, 1 / 30), repeats=10)
    dream = Dream(net, one_step, seed=0, device=device, canvas_px=size)
    step = median_ms(lambda: dream.keyframe(target, 1 / 30), repeats=10)
    dream.params = steady
    key = median_ms(lambda: dream.keyframe(target, 1 / 30), repeats=5)
    return {"dream_step_ms": step, "keyframes_per_s": 1000.0 / key,
            "coarse_step_ms": coarse_step, **bench_eyes(net, one_step, size, device)}


def bench_eyes(net: VisionNet, params: SamplerConfig, size: int,
               device: torch.device) -> dict[str, float]:
    """One step with the ImageNet eye alone, and with a target on both eyes: both in one step
    (``alternate_eyes`` off) and taking turns (the default). Random weights, as above."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        imagenet = ImageNetEye(EfficientNetLite(), tuple(f"c{i}" for i in range(1000)))
    eyes = Eyes([("coco", net), ("imagenet", imagenet.to(device))])
    out = {}
    for name, target, alternate in (("imagenet_step_ms", {"imagenet:c3": 1.0}, True),
                                    ("two_eyes_step_ms", {"dog": 0.5, "imagenet:c3": 0.5}, False),
                                    ("alternating_step_ms", {"dog": 0.5, "imagenet:c3": 0.5},
                                     True)):
        dream = Dream(eyes, replace(params, alternate_eyes=alternate), seed=0, device=device,
                      canvas_px=size)
        out[name] = median_ms(functools.partial(dream.keyframe, target, 1 / 30), repeats=10)
    return out


def bench_render(config: EngineConfig, size: tuple[int, int]) -> dict[str, float]:
    """Frames/s of the full pass chain at ``size``: drawn only, read back, read back + PNG."""
    frames = 40 if size[0] * size[1] <= 1920 * 1080 else 12
    ctx = create_headless_context()
    side = config.dream.canvas_px
    renderer = Renderer(ctx, size, side, config.render)
    key = np.random.default_rng(0).integers(0, 255, (side, side, 3), dtype=np.uint8)
    renderer.push_keyframe(key, 0.0)
    clock = iter(np.arange(100_000) / 60.0)

    def draw() -> None:
        renderer.render(frame_params(config.render, float(next(clock)), 1 / 60))
        ctx.finish()

    def draw_read() -> None:
        renderer.render(frame_params(config.render, float(next(clock)), 1 / 60))
        renderer.read()

    def draw_read_encode() -> None:
        renderer.render(frame_params(config.render, float(next(clock)), 1 / 60))
        encode_png(renderer.read(), config.recording.png_level)

    out = {"render_fps": 1000.0 / median_ms(draw, repeats=frames),
           "render_readback_fps": 1000.0 / median_ms(draw_read, repeats=frames),
           "render_png_fps": 1000.0 / median_ms(draw_read_encode, repeats=max(5, frames // 4))}
    renderer.release()
    ctx.release()
    return out


def run_all(config: EngineConfig) -> dict[str, Any]:
    """Every figure, keyed as the ``bench --json`` contract in DESIGN.md says."""
    torch.set_num_threads(config.dream.torch_threads)
    device = resolve_device(config.dream.device)
    out: dict[str, Any] = {"torch_threads": torch.get_num_threads(), "device": str(device)}
    out.update(bench_hearing(config, load_sound_model(config, [])))  # the net `live` runs
    for size in CANVAS_SIZES:
        for key, value in bench_canvas(config, size, device).items():
            out.setdefault(key, {})[str(size)] = value
    for size in PRIOR_SIZES:
        for key, value in bench_dream(config, size, device).items():
            out.setdefault(key, {})[f"latent_{size}"] = value
    for key in ("render_fps", "render_readback_fps", "render_png_fps"):
        out[key] = {}
    for w, h in RENDER_SIZES:
        for key, value in bench_render(config, (w, h)).items():
            out[key][f"{w}x{h}"] = value
    return out


def format_table(figures: dict[str, Any]) -> str:
    """A plain-text table of :func:`run_all`'s figures."""
    rows = [("stage", "setting", "figure")]
    for key, value in figures.items():
        if isinstance(value, dict):
            rows += [(key, k, f"{v:.2f}") for k, v in value.items()]
        elif isinstance(value, float):
            rows.append((key, "", f"{value:.3f}"))
        else:
            rows.append((key, "", str(value)))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
