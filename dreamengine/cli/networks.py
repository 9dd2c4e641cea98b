"""Commands that run one network on its own: ``classify`` (sound) and ``sample`` (images)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from dreamengine.cli.parser import config_overrides
from dreamengine.cli.progress import Progress
from dreamengine.errors import DreamengineError
from dreamengine.selection import ClassMap, class_weights

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


def through_class_map(asked: dict[str, float], class_map: ClassMap, image_labels: tuple[str, ...],
                      seed: int) -> dict[str, float]:
    """``asked`` with each sound label (``rain``) replaced by one of its image classes, drawn
    by the class map's weights as the live show draws it (seeded: chain ``seed`` draws the
    same one every time); image class names pass through."""
    import random

    out: dict[str, float] = {}
    rng = random.Random(seed)
    for name, weight in asked.items():
        options = [(k, w) for k, w in class_map.targets(name) if w > 0]
        if name in image_labels:
            out[name] = out.get(name, 0.0) + weight
            continue
        if not options:
            raise DreamengineError(f"sound label {name!r} draws nothing in the class map "
                                   "(its table is empty): the dream would only drift")
        pick = rng.choices([k for k, _ in options], [w for _, w in options])[0]
        out[pick] = out.get(pick, 0.0) + weight
    return out


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
    from dreamengine.engine.build import (
        class_map_path,
        load_image_prior,
        load_vision,
        resolve_device,
    )
    from dreamengine.recording import FrameLog, atomic_write_bytes, encode_png, prepare_output_dir
    from dreamengine.selection import load_class_map
    from dreamengine.vocabulary import LABELS as VOCABULARY

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
        asked = parse_class_weights(args.classes, net.labels + VOCABULARY)
        seeds = [args.seed + i for i in range(args.n)]
        class_map = load_class_map(class_map_path(config, net), VOCABULARY, net.labels)
        targets = [through_class_map(asked, class_map, net.labels, seed) for seed in seeds]
        out = prepare_output_dir(args.out)
        images = [sample_canvases(net, t, 1, args.steps, s, config.sampler, size)[0]
                  for t, s in zip(targets, seeds, strict=True)]
    else:
        if args.size is not None:
            raise DreamengineError("--size is for the canvas dream; the latent dream's pictures "
                                   "have its generator's size")
        prior, _ = load_image_prior(config, device, warnings)
        for warning in warnings:
            print(f"dreamengine: note: {warning}", file=sys.stderr)
        asked = parse_class_weights(args.classes, prior.labels)
        out = prepare_output_dir(args.out)
        images = sample_images(prior, asked, args.n, args.steps, args.seed, config.sampler)
        seeds = [args.seed] * args.n  # one batch: row i of the seed's latents
        targets = [asked] * args.n
    stem = "_".join(sorted(asked)).replace(":", "-")
    with FrameLog(out / "frames.jsonl") as log:
        for i, image in enumerate(images):
            name = f"{stem}_{i:03d}.png"
            atomic_write_bytes(out / name, encode_png(image))
            log.write({"file": name, "index": i, "seed": seeds[i], "target": targets[i],
                       "asked": asked,
                       "steps": args.steps, "size": image.shape[0],
                       "sampler": dataclasses.asdict(config.sampler)})
    print(f"samples: {out.resolve()}/{stem}_*.png  log: {out.resolve()}/frames.jsonl")
    return 0


def _rounded(labels: tuple[str, ...], probs: Iterable[float]) -> dict[str, float]:
    return {name: round(float(p), 4) for name, p in zip(labels, probs, strict=True)}
