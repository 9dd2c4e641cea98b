"""Model-card figures for a built image prior bundle and its referee.

    .venv/bin/python priors/image/evaluate.py --bundle priors/image/prior.pt \
        --referee priors/image/referee.pt --out data/image/eval

Writes ``OUT/figures.json`` and ``OUT/grid_CLASS.png``:

- ``referee_agreement``: per class, the fraction of ``--n`` PPGN samples (``--steps`` steps
  from fresh latents, driven by C through ``dreamengine.dream.sample``) that the referee
  classifies as the target class, and its mean (target ≥ 0.6 at 200 steps);
- ``referee_val_top1`` / ``condition_val_top1``: both classifiers on held-out real images (the
  ceiling the agreement can reach);
- ``diversity``: mean pairwise cosine distance of referee features across seeds, per class,
  next to the same figure for real validation images;
- ``chain``: one ``--chain-steps`` chain cycling through the classes: NaN count, fraction of
  saturated pixels (|x| > 0.98) and high-frequency energy (mean |Laplacian|) at the start and
  end, and for real images;
- ``step_ms``: median PPGN step time at 64 and 128 px on one thread, batch 1.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from train_data import load_pixels, read_manifest, save_grid, to_unit

from dreamengine.dream.sample import sample_latents
from dreamengine.models import ImagePrior, RefereeNet
from dreamengine.sampler import PPGNSampler, SamplerConfig, class_log_prob, target_vector


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bundle", type=Path, default=Path("priors/image/prior.pt"))
    p.add_argument("--referee", type=Path, default=Path("priors/image/referee.pt"))
    p.add_argument("--data", type=Path, default=Path("data/image"))
    p.add_argument("--out", type=Path, default=Path("data/image/eval"))
    p.add_argument("--n", type=int, default=8, help="seeds per class")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--chain-steps", type=int, default=2000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def referee_view(referee: RefereeNet, images: torch.Tensor) -> torch.Tensor:
    """Images ``[B, 3, S, S]`` resized to the referee's training side."""
    side = int(referee.meta.get("input_size", images.shape[-1]))
    if images.shape[-1] != side:
        images = F.interpolate(images, size=(side, side), mode="area")
    return images


@torch.no_grad()
def diversity(referee: RefereeNet, images: torch.Tensor) -> float:
    """Mean pairwise cosine distance of referee features over ``[B, 3, S, S]``."""
    f = F.normalize(referee.features(referee_view(referee, images)), dim=1)
    sim = f @ f.T
    b = len(f)
    return float((1 - sim).sum() / (b * (b - 1)))


def cleanliness(images: torch.Tensor) -> dict[str, float]:
    """NaNs, saturated fraction and mean |Laplacian| of ``[B, 3, S, S]`` in [-1, 1]."""
    kernel = torch.tensor([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=torch.float32)
    lap = F.conv2d(images.reshape(-1, 1, *images.shape[-2:]), kernel.view(1, 1, 3, 3))
    return {"nan": int(torch.isnan(images).sum()),
            "saturated": float((images.abs() > 0.98).float().mean()),
            "hf_energy": float(lap.abs().mean())}


def agreement(prior: ImagePrior, referee: RefereeNet, args: argparse.Namespace) -> dict:
    params, per_class, div = SamplerConfig(), {}, {}
    for k, label in enumerate(prior.labels):
        h = sample_latents(prior, {label: 1.0}, args.n, args.steps, args.seed + 100 * k, params)
        with torch.no_grad():
            images = prior.generator(h).float().clamp(-1, 1)
            pred = referee(referee_view(referee, images)).argmax(1)
        per_class[label] = float((pred == k).float().mean())
        div[label] = diversity(referee, images)
        save_grid(images, args.out / f"grid_{label}.png", nrow=args.n)
        print(f"{label:12s} referee agreement {per_class[label]:.2f} diversity {div[label]:.3f}",
              flush=True)
    return {"referee_agreement": per_class,
            "referee_agreement_mean": statistics.mean(per_class.values()),
            "diversity": div, "diversity_mean": statistics.mean(div.values())}


def real_figures(prior: ImagePrior, referee: RefereeNet, data: Path) -> dict:
    rows = read_manifest(data, ("val",), labelled=True)
    x = to_unit(load_pixels(data, rows, prior.config.generator.size))
    y = torch.tensor([prior.labels.index(r["label"]) for r in rows])
    with torch.no_grad():
        ref = referee(referee_view(referee, x)).argmax(1)
        cond = prior.condition(x).argmax(1)
    return {"referee_val_top1": float((ref == y).float().mean()),
            "condition_val_top1": float((cond == y).float().mean()),
            "diversity_real_val": diversity(referee, x[torch.randperm(len(x))[:64]]),
            "real_val": cleanliness(x)}


def long_chain(prior: ImagePrior, args: argparse.Namespace) -> dict:
    """One chain of ``--chain-steps``, switching class every 200 steps, as a live set would."""
    sampler, params = PPGNSampler(prior.generator, prior.prior.score), SamplerConfig()
    h = PPGNSampler.initial_latent(prior.config.generator.latent_dim, args.seed, params.clip)
    noise, snaps = torch.Generator().manual_seed(args.seed + 1), []
    for i in range(args.chain_steps):
        label = prior.labels[(i // 200) % len(prior.labels)]
        objective = class_log_prob(prior.condition, target_vector({label: 1.0}, prior.labels))
        h = sampler.step(h, objective, params, noise).h
        if (i + 1) % 250 == 0:
            with torch.no_grad():
                snaps.append(prior.generator(h).float())
    images = torch.cat(snaps)
    save_grid(images.clamp(-1, 1), args.out / "chain.png", nrow=len(snaps))
    return {"steps": args.chain_steps, "start": cleanliness(images[:1]),
            "end": cleanliness(images[-1:]), "all": cleanliness(images)}


def step_ms(prior: ImagePrior, size: int, repeats: int = 50) -> float:
    """Median PPGN step time (ms) on one thread, batch 1, with G at ``size`` px."""
    config = replace(prior.config, generator=replace(prior.config.generator, size=size))
    net = prior if size == prior.config.generator.size else ImagePrior.random(config, 0)
    sampler = PPGNSampler(net.generator, net.prior.score)
    objective = class_log_prob(net.condition, target_vector({net.labels[0]: 1.0}, net.labels))
    h, times = torch.zeros(1, config.generator.latent_dim), []
    for i in range(repeats + 5):
        t = time.perf_counter()
        h = sampler.step(h, objective, SamplerConfig()).h
        if i >= 5:
            times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times))


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    prior = ImagePrior.load(args.bundle)
    referee = RefereeNet.from_checkpoint(args.referee)
    args.out.mkdir(parents=True, exist_ok=True)
    figures = {"steps": args.steps, "n": args.n, **agreement(prior, referee, args),
               **real_figures(prior, referee, args.data), "chain": long_chain(prior, args)}
    torch.set_num_threads(1)
    figures["step_ms"] = {str(s): step_ms(prior, s) for s in (64, 128)}
    (args.out / "figures.json").write_text(json.dumps(figures, indent=1))
    print(json.dumps({k: v for k, v in figures.items() if not isinstance(v, dict)}, indent=1))
    print(f"wrote {args.out / 'figures.json'}")


if __name__ == "__main__":
    main()
