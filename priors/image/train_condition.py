"""Train the condition classifier C, or the referee, on labelled real images only.

    .venv/bin/python priors/image/train_condition.py --model condition
    .venv/bin/python priors/image/train_condition.py --model referee --seed 1

Class-balanced sampling (each batch draws classes uniformly, then pictures) over the labelled
``train`` split and heavy augmentation, all batched tensor ops so they run on a GPU too: each
RGBA object is scaled, rotated, shifted and mirrored, composited onto a fresh background (solid,
gradient or low-frequency noise), then colour jitter, grey-scale, blur or a down-up resample
(generator-like softness), Gaussian noise and cutout. C's input gradient drives PPGN, so it must
respond to shape and colour, not to a background or a texture. Never trained on G's samples.
Validation on the ``val`` split (stored composites, no augmentation) every ``--eval-every``;
``OUT/best.pt`` keeps the best macro accuracy, ``OUT/last.pt`` resumes.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from train_data import (
    Progress,
    command_line,
    load_pixels,
    load_state,
    pick_device,
    read_manifest,
    save_state,
    to_unit,
)

from dreamengine.models import ConditionConfig, ConditionNet, RefereeConfig, RefereeNet
from dreamengine.vocabulary import LABELS


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=("condition", "referee"), default="condition")
    p.add_argument("--data", type=Path, default=Path("data/image"))
    p.add_argument("--out", type=Path, help="default data/image/checkpoints/MODEL_SIZE")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--width", type=int, default=0, help="0: the model's default")
    p.add_argument("--blocks", type=int, default=0, help="0: the model's default")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--iters", type=int, default=6000)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--save-minutes", type=float, default=5.0)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fresh", action="store_true")
    return p.parse_args()


def build(args: argparse.Namespace) -> ConditionNet | RefereeNet:
    sizes = {k: v for k, v in (("width", args.width), ("blocks", args.blocks)) if v}
    if args.model == "condition":
        return ConditionNet(ConditionConfig(labels=LABELS, input_size=args.size, **sizes))
    if "blocks" in sizes:
        sizes["stages"] = sizes.pop("blocks")
    return RefereeNet(RefereeConfig(labels=LABELS, **sizes))


def geometric(rgba: torch.Tensor) -> torch.Tensor:
    """Random scale (0.55–1.15), rotation (±25°), shift (±18 %) and mirror of ``[B, 4, S, S]``;
    pixels from outside the frame are transparent."""
    b, dev = rgba.shape[0], rgba.device
    scale = torch.empty(b, device=dev).uniform_(0.55, 1.15)
    angle = torch.empty(b, device=dev).uniform_(-25, 25) * math.pi / 180
    mirror = torch.where(torch.rand(b, device=dev) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    shift = torch.empty(b, 2, device=dev).uniform_(-0.18, 0.18)
    theta = torch.stack([torch.stack([cos * mirror, -sin, shift[:, 0]], 1),
                         torch.stack([sin * mirror, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(rgba.shape), align_corners=False)
    return F.grid_sample(rgba, grid, align_corners=False, padding_mode="zeros")


def backgrounds(b: int, s: int, device: torch.device) -> torch.Tensor:
    """``[b, 3, s, s]`` in [-1, 1]: solid colours, two-colour gradients or soft noise."""
    c1, c2 = torch.rand(2, b, 3, 1, 1, device=device) * 2 - 1
    ramp = torch.linspace(0, 1, s, device=device)
    angle = torch.rand(b, 1, 1, device=device) * 2 * math.pi
    t = (torch.cos(angle) * ramp.view(1, 1, s) + torch.sin(angle) * ramp.view(1, s, 1)) / 1.42
    gradient = c1 + (c2 - c1) * (t.unsqueeze(1) + 0.5).clamp(0, 1)
    noise = F.interpolate(torch.rand(b, 3, 4, 4, device=device) * 2 - 1, size=(s, s),
                          mode="bicubic", align_corners=False).clamp(-1, 1)
    kind = torch.randint(0, 3, (b, 1, 1, 1), device=device)
    return torch.where(kind == 0, c1.expand(b, 3, s, s), torch.where(kind == 1, gradient, noise))


def photometric(x: torch.Tensor) -> torch.Tensor:
    """Colour jitter, grey, blur or down-up resampling, noise and cutout on ``[B, 3, S, S]``."""
    b, _, s, _ = x.shape
    r = torch.rand(b, 8, 1, 1, 1, device=x.device)
    x = x + (r[:, 0] - 0.5) * 0.5
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * (0.6 + 0.8 * r[:, 1]) + mean
    grey = x.mean(dim=1, keepdim=True)
    x = grey + (x - grey) * torch.where(r[:, 2] < 0.1, 0.0, 0.4 + 1.2 * r[:, 3])
    soft = F.interpolate(F.avg_pool2d(x, 2), size=(s, s), mode="bilinear", align_corners=False)
    x = torch.where(r[:, 4] < 0.3, soft, x)
    x = x + torch.randn_like(x) * 0.08 * r[:, 5]
    k = s // 4
    cy, cx = (torch.rand(2, b, 1, 1, device=x.device) * (s - k)).long()
    ys, xs = torch.arange(s, device=x.device).view(1, s, 1), torch.arange(s, device=x.device)
    hole = (ys >= cy) & (ys < cy + k) & (xs >= cx) & (xs < cx + k) & (r[:, 6, 0] < 0.5)
    return x.masked_fill(hole.unsqueeze(1), 0.0).clamp(-1, 1)


def augment(rgba_u8: torch.Tensor) -> torch.Tensor:
    """uint8 RGBA objects ``[B, 4, S, S]`` → augmented images ``[B, 3, S, S]`` in [-1, 1]."""
    obj = geometric(rgba_u8.float() / 255)
    rgb, alpha = obj[:, :3] * 2 - 1, obj[:, 3:]
    bg = backgrounds(rgb.shape[0], rgb.shape[-1], rgb.device)
    return photometric(rgb * alpha + bg * (1 - alpha))


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """Top-1 and macro (per-class mean) accuracy on uint8 ``[N, 3, S, S]``."""
    model.eval()
    pred = torch.cat([model(to_unit(c)).argmax(1) for c in images.split(256)])
    model.train()
    hits = (pred == labels).float()
    per_class = [float(hits[labels == k].mean()) for k in labels.unique()]
    return {"val_top1": float(hits.mean()), "val_macro": sum(per_class) / len(per_class)}


def balanced_sampler(labels: torch.Tensor) -> torch.Tensor:
    """Per-item weights ``[N]`` that make every class equally likely."""
    counts = torch.bincount(labels, minlength=len(LABELS)).float()
    return 1.0 / counts[labels]


def main() -> None:
    args = parse_args()
    out = args.out or args.data / "checkpoints" / f"{args.model}_{args.size}"
    device = pick_device(args.device, args.threads)
    torch.manual_seed(args.seed)
    train_rows = read_manifest(args.data, ("train",), labelled=True)
    val_rows = read_manifest(args.data, ("val",), labelled=True)
    objects = load_pixels(args.data, train_rows, args.size, rgba=True).to(device)
    y = torch.tensor([LABELS.index(r["label"]) for r in train_rows], device=device)
    val_x = load_pixels(args.data, val_rows, args.size).to(device)
    val_y = torch.tensor([LABELS.index(r["label"]) for r in val_rows], device=device)
    weights = balanced_sampler(y)
    print(f"{args.model}: {len(train_rows)} train / {len(val_rows)} val images on {device}",
          flush=True)
    model = build(args).to(device)
    opt = torch.optim.AdamW(model.parameters(), args.lr, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=args.iters,
                                                pct_start=0.1)
    start, elapsed, best = 0, 0.0, -1.0
    state = None if args.fresh else load_state(out / "last.pt")
    if state is not None:
        for name, obj in (("model", model), ("opt", opt), ("sched", sched)):
            obj.load_state_dict(state["state_dict"][name])
        start, elapsed = int(state["meta"]["iteration"]), float(state["meta"]["elapsed_s"])
        best = float(state["meta"]["best_val_macro"])
        print(f"resumed from {out / 'last.pt'} at iteration {start}", flush=True)
    t0 = time.monotonic()

    def checkpoint(name: str, it: int, figures: dict[str, float]) -> None:
        save_state(out / name,
                   {"model": model.state_dict(), "opt": opt.state_dict(),
                    "sched": sched.state_dict()},
                   {"kind": args.model, "model": dataclasses.asdict(model.config),
                    "train": {k: str(v) for k, v in vars(args).items()}},
                   {"iteration": it, "elapsed_s": elapsed + time.monotonic() - t0,
                    "best_val_macro": best, "command": command_line(), **figures})

    progress = Progress(args.iters, start, args.log_every, args.save_minutes * 60)
    figures: dict[str, float] = {}
    model.train()
    for it in range(start + 1, args.iters + 1):
        idx = torch.multinomial(weights, args.batch, replacement=True)
        logits = model(augment(objects[idx]))
        loss = F.cross_entropy(logits, y[idx], label_smoothing=args.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        progress.log(it, loss=loss.item(), **figures)
        if it % args.eval_every == 0 or it == args.iters:
            figures = evaluate(model, val_x, val_y)
            if figures["val_macro"] > best:
                best = figures["val_macro"]
                checkpoint("best.pt", it, figures)
        if progress.save_due() or it == args.iters:
            checkpoint("last.pt", it, figures)
    print(f"done: best val macro accuracy {best:.3f} in {out / 'best.pt'}", flush=True)


if __name__ == "__main__":
    main()
