"""Commands that run one network on its own: ``classify`` (sound) and ``sample`` (images)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from dreamengine.cli.parser import config_overrides
from dreamengine.cli.progress import Progress
from dreamengine.errors import DreamengineError
from dreamengine.selection import class_weights

# `sample`'s canvas side: from a fresh canvas, blind judges named the target of 256 px pictures
# 11-12 times in 18 against 5-6 for the live 192 px canvas (priors/vision/MODEL_CARD.md)
SAMPLE_PX = 256


def classify_command(args: argparse.Namespace) -> int:
    import json

    from dreamengine.engine import load_config
    from dreamengine.engine.build import load_sound_model
    from dreamengine.engine.classify import classify_file

    config = load_config(args.config, config_overrides(args))
    warnings: list[str] = []
    model = load_sound_model(config, warnings)
    for warning in warnings:
        print(f"dreamengine: note: {warning}", file=sys.stderr)
    failed = 0
    for path in args.files:
        bar = Progress(f"classify {path.name}", "s of audio", args.quiet)
        try:
            result = classify_file(path, config, model, bar.update)
        except DreamengineError as exc:
            failed += 1
            print(json.dumps({"file": str(path), "error": str(exc)}), flush=True)
            print(f"dreamengine: error: {exc}", file=sys.stderr)
            continue
        finally:
            bar.close()
        record: dict[str, object] = {"file": str(path), "probs": _rounded(result.labels,
                                                                          result.probs)}
        if args.windows:
            record["windows"] = [{"t": round(float(t), 3), "probs": _rounded(result.labels, p)}
                                 for t, p in zip(result.window_times, result.window_probs,
                                                 strict=True)]
        print(json.dumps(record), flush=True)
    return 1 if failed else 0


def parse_class_weights(items: list[str], labels: tuple[str, ...]) -> dict[str, float]:
    """``["dog", "bird:0.5"]`` → ``{"dog": 1.0, "bird": 0.5}``, checked against ``labels``."""
    try:
        target = class_weights(items, bare=1.0)
    except ValueError as exc:
        raise DreamengineError(str(exc)) from None
    for name in target:
        if name not in labels:
            raise DreamengineError(f"unknown class {name!r}; known: {', '.join(labels)}")
    return target


def sample_command(args: argparse.Namespace) -> int:
    import dataclasses

    import torch

    from dreamengine.dream.sample import sample_canvases, sample_images
    from dreamengine.engine import load_config
    from dreamengine.engine.build import load_image_prior, load_vision, resolve_device
    from dreamengine.recording import FrameLog, atomic_write_bytes, encode_png, prepare_output_dir

    config = load_config(args.config, config_overrides(args))
    if args.steps < 1:
        raise DreamengineError(f"--steps must be at least 1, got {args.steps}")
    torch.set_num_threads(config.dream.torch_threads)
    warnings: list[str] = []
    device = resolve_device(config.dream.device)
    size = SAMPLE_PX if args.size is None else args.size
    if config.dream.backend == "canvas":
        if size % 32:
            raise DreamengineError(f"--size must be a multiple of 32 px, got {size}")
        net, _ = load_vision(config, device)
        target = parse_class_weights(args.classes, net.labels)
        out = prepare_output_dir(args.out)
        images = sample_canvases(net, target, args.n, args.steps, args.seed, config.sampler, size)
        seeds = [args.seed + i for i in range(args.n)]
    else:
        if args.size is not None:
            raise DreamengineError("--size is for the canvas dream; the latent dream's pictures "
                                   "have its generator's size")
        prior, _ = load_image_prior(config, device, warnings)
        for warning in warnings:
            print(f"dreamengine: note: {warning}", file=sys.stderr)
        target = parse_class_weights(args.classes, prior.labels)
        out = prepare_output_dir(args.out)
        images = sample_images(prior, target, args.n, args.steps, args.seed, config.sampler)
        seeds = [args.seed] * args.n  # one batch: row i of the seed's latents
    stem = "_".join(sorted(target))
    with FrameLog(out / "frames.jsonl") as log:
        for i, image in enumerate(images):
            name = f"{stem}_{i:03d}.png"
            atomic_write_bytes(out / name, encode_png(image))
            log.write({"file": name, "index": i, "seed": seeds[i], "target": target,
                       "steps": args.steps, "size": image.shape[0],
                       "sampler": dataclasses.asdict(config.sampler)})
    print(f"samples: {out.resolve()}/{stem}_*.png  log: {out.resolve()}/frames.jsonl")
    return 0


def _rounded(labels: tuple[str, ...], probs: Iterable[float]) -> dict[str, float]:
    return {name: round(float(p), 4) for name, p in zip(labels, probs, strict=True)}
