"""Train the generator G as a hinge GAN on every image in data/image (labelled or not).

    .venv/bin/python priors/image/train_gan.py --size 64 --iters 20000

G (dreamengine.models.Generator, upsample + 3×3 conv, PixelNorm) against a spectral-norm
discriminator D, hinge loss, Adam(0, 0.99), an EMA copy of G's weights (the one shipped), and
DiffAugment (Zhao et al., 2020: colour, translation, cutout on real and fake alike) because a few
thousand images overfit D quickly. Writes ``OUT/last.pt`` every ``--save-minutes`` and at the
end, and ``OUT/samples_ITER.png`` (EMA G on fixed latents) every ``--sample-every`` iterations.
Run it again with the same ``--out`` to resume; ``--fresh`` starts over.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import time
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.nn.functional as F
from train_data import (
    Progress,
    command_line,
    load_pixels,
    load_state,
    pick_device,
    read_manifest,
    save_grid,
    save_state,
    to_unit,
)

from dreamengine.models import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("data/image"))
    p.add_argument("--out", type=Path, help="default data/image/checkpoints/gan_SIZE")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--latent-dim", type=int, default=128)
    p.add_argument("--width", type=int, default=256, help="G channels at 4x4")
    p.add_argument("--min-width", type=int, default=32, help="G channels floor (16 at 128 px)")
    p.add_argument("--convs", type=int, default=1, help="3x3 convs per G block")
    p.add_argument("--d-width", type=int, default=32, help="D channels at full resolution")
    p.add_argument("--d-max-width", type=int, default=128, help="D channel cap")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--iters", type=int, default=20000)
    p.add_argument("--lr-g", type=float, default=2e-4)
    p.add_argument("--lr-d", type=float, default=2e-4)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--save-minutes", type=float, default=5.0)
    p.add_argument("--sample-every", type=int, default=500)
    p.add_argument("--log-every", type=int, default=20)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--amp", action="store_true", help="bf16 autocast (CUDA, or a bf16 CPU)")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fresh", action="store_true", help="ignore OUT/last.pt")
    return p.parse_args()


def diff_augment(x: torch.Tensor, g: torch.Generator | None = None) -> torch.Tensor:
    """DiffAugment colour + translation (1/8) + cutout (1/4), differentiable: ``[B,3,S,S]``."""
    b, _, s, _ = x.shape
    r = torch.rand(b, 4, 1, 1, 1, device=x.device)
    x = x + (r[:, 0] - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (r[:, 1] * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * (r[:, 2] + 0.5) + mean
    shift = s // 8
    dx, dy = (int(v) for v in torch.randint(-shift, shift + 1, (2,)))
    x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
    k = s // 4
    cy, cx = torch.randint(0, s - k + 1, (2, b, 1, 1), device=x.device)
    ys = torch.arange(s, device=x.device).view(1, s, 1)
    xs = torch.arange(s, device=x.device).view(1, 1, s)
    hole = ((ys >= cy) & (ys < cy + k) & (xs >= cx) & (xs < cx + k)).unsqueeze(1)
    return x.masked_fill(hole, 0.0)


def build(args: argparse.Namespace) -> tuple[Generator, Discriminator]:
    g_cfg = GeneratorConfig(args.latent_dim, args.size, args.width, args.convs, args.min_width)
    d_cfg = DiscriminatorConfig(args.size, args.d_width, args.d_max_width)
    return Generator(g_cfg), Discriminator(d_cfg)


@torch.no_grad()
def update_ema(ema: Generator, g: Generator, decay: float) -> None:
    for pe, p in zip(ema.parameters(), g.parameters(), strict=True):
        pe.lerp_(p, 1.0 - decay)


def train_step(g: Generator, d: Discriminator, opts: tuple[torch.optim.Optimizer, ...],
               real: torch.Tensor, args: argparse.Namespace, amp) -> dict[str, float]:
    """One D step and one G step on a real batch ``[B, 3, S, S]`` in [-1, 1]."""
    opt_g, opt_d = opts
    z = torch.randn(real.shape[0], args.latent_dim, device=real.device)
    with amp():
        fake = g(z)
        d_real = d(diff_augment(real))
        d_fake = d(diff_augment(fake.detach()))
        loss_d = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    with amp():
        loss_g = -d(diff_augment(fake)).mean()
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return {"d": loss_d.item(), "g": loss_g.item(), "d_real": d_real.detach().mean().item(),
            "d_fake": d_fake.detach().mean().item()}


def main() -> None:
    args = parse_args()
    out = args.out or args.data / "checkpoints" / f"gan_{args.size}"
    device = pick_device(args.device, args.threads)
    torch.manual_seed(args.seed)
    rows = read_manifest(args.data)
    pixels = load_pixels(args.data, rows, args.size).to(device)
    print(f"{len(rows)} images at {args.size} px on {device}", flush=True)
    memory = torch.channels_last if args.channels_last else torch.contiguous_format
    g, d = build(args)
    g.to(device).to(memory_format=memory)
    d.to(device).to(memory_format=memory)
    ema = copy.deepcopy(g).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(g.parameters(), args.lr_g, betas=(0.0, 0.99))
    opt_d = torch.optim.Adam(d.parameters(), args.lr_d, betas=(0.0, 0.99))
    start, elapsed = 0, 0.0
    state = None if args.fresh else load_state(out / "last.pt")
    if state is not None:
        for name, obj in (("G", g), ("G_ema", ema), ("D", d), ("opt_g", opt_g), ("opt_d", opt_d)):
            if name in state["state_dict"]:  # a compact hand-over checkpoint has no optimisers
                obj.load_state_dict(state["state_dict"][name])
        start, elapsed = int(state["meta"]["iteration"]), float(state["meta"]["elapsed_s"])
        print(f"resumed from {out / 'last.pt'} at iteration {start}", flush=True)
    fixed = torch.randn(64, args.latent_dim, generator=torch.Generator().manual_seed(1234))
    amp_on = args.amp or device.type == "cuda"

    def amp():
        return (torch.autocast(device.type, dtype=torch.bfloat16) if amp_on else nullcontext())

    def checkpoint(it: int) -> None:
        save_state(out / "last.pt",
                   {"G": g.state_dict(), "G_ema": ema.state_dict(), "D": d.state_dict(),
                    "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict()},
                   {"generator": dataclasses.asdict(g.config),
                    "discriminator": dataclasses.asdict(d.config), "train": vars_of(args)},
                   {"iteration": it, "elapsed_s": elapsed + time.monotonic() - t0,
                    "command": command_line(), "images": len(rows), "device": str(device)})

    t0 = time.monotonic()
    progress = Progress(args.iters, start, args.log_every, args.save_minutes * 60)
    g.train()
    d.train()
    for it in range(start + 1, args.iters + 1):
        idx = torch.randint(0, len(pixels), (args.batch,), device=device)
        real = to_unit(pixels[idx])
        flip = torch.rand(args.batch, 1, 1, 1, device=device) < 0.5
        real = torch.where(flip, real.flip(3), real).contiguous(memory_format=memory)
        losses = train_step(g, d, (opt_g, opt_d), real, args, amp)
        update_ema(ema, g, min(args.ema, (1 + it) / (10 + it)))
        progress.log(it, **losses)
        if it % args.sample_every == 0 or it == args.iters:
            with torch.no_grad():
                save_grid(ema(fixed.to(device)), out / f"samples_{it:06d}.png")
        if progress.save_due() or it == args.iters:
            checkpoint(it)
    print(f"done: {out / 'last.pt'}", flush=True)


def vars_of(args: argparse.Namespace) -> dict[str, object]:
    """argparse values as checkpoint-safe plain types (paths become strings)."""
    return {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}


if __name__ == "__main__":
    main()
