"""Train the latent prior (PPGN's ε1 term) for a trained generator.

    .venv/bin/python priors/image/train_prior.py --gan data/image/checkpoints/gan_64/last.pt

Two phases, as in PPGN (whose DAE modelled the codes of real images):

1. an encoder E (dreamengine.models.Encoder) learns to invert the frozen EMA generator: latent
   loss ``|E(G(z)) − z|²`` on generated images plus ``|G(E(x)) − x|₁`` on real ones, so E maps
   real images to codes whose images resemble them;
2. the denoising autoencoder R (dreamengine.models.LatentPrior) learns to undo Gaussian noise on
   a mix of those real-image codes (``--real-fraction``) and draws from G's N(0, I) prior. The
   noise level of each example is drawn from U(0, ``--noise`` × per-dimension code std), so it is
   matched to the spread of the latent distribution; ``R(h) − h`` then points toward codes of
   real-looking images, and its pull scales with how far h is from them.

Writes ``OUT/last.pt`` (both networks, resumable per phase) every ``--save-minutes``.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
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
    save_state,
    to_unit,
)

from dreamengine.models import (
    Encoder,
    EncoderConfig,
    Generator,
    GeneratorConfig,
    LatentPrior,
    LatentPriorConfig,
)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gan", type=Path, default=Path("data/image/checkpoints/gan_64/last.pt"))
    p.add_argument("--data", type=Path, default=Path("data/image"))
    p.add_argument("--out", type=Path, help="default: prior_SIZE beside the GAN checkpoint")
    p.add_argument("--encoder-iters", type=int, default=3000)
    p.add_argument("--dae-iters", type=int, default=6000)
    p.add_argument("--batch", type=int, default=64, help="encoder batch (DAE uses 4x)")
    p.add_argument("--encoder-width", type=int, default=32)
    p.add_argument("--hidden", type=int, default=512, help="DAE hidden units")
    p.add_argument("--noise", type=float, default=0.5, help="max noise / code std")
    p.add_argument("--real-fraction", type=float, default=0.5)
    p.add_argument("--recon-weight", type=float, default=1.0)
    p.add_argument("--clip", type=float, default=3.0)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--save-minutes", type=float, default=5.0)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fresh", action="store_true")
    return p.parse_args()


def load_generator(path: Path, device: torch.device) -> Generator:
    """The EMA generator of a train_gan.py checkpoint, frozen, in eval mode."""
    state = load_state(path)
    if state is None:
        raise SystemExit(f"no GAN checkpoint at {path}: run train_gan.py first")
    g = Generator(GeneratorConfig(**state["config"]["generator"]))
    g.load_state_dict(state["state_dict"]["G_ema"])
    return g.to(device).eval().requires_grad_(False)


def encoder_step(e: Encoder, g: Generator, real: torch.Tensor, opt: torch.optim.Optimizer,
                 args: argparse.Namespace) -> dict[str, float]:
    """One step of phase 1 on a real batch ``[B, 3, S, S]``."""
    z = torch.randn(real.shape[0], g.config.latent_dim, device=real.device)
    with torch.no_grad():
        fake = g(z)
    loss_z = F.mse_loss(e(fake), z)
    loss_x = F.l1_loss(g(e(real)), real)
    loss = loss_z + args.recon_weight * loss_x
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return {"latent_mse": loss_z.item(), "recon_l1": loss_x.item()}


@torch.no_grad()
def real_codes(e: Encoder, pixels: torch.Tensor, clip: float) -> torch.Tensor:
    """Codes ``[2N, latent_dim]`` of every real image and its mirror image."""
    e.eval()
    codes = []
    for chunk in pixels.split(256):
        x = to_unit(chunk)
        codes += [e(x), e(x.flip(3))]
    e.train()
    return torch.cat(codes).clamp(-clip, clip)


def dae_step(r: LatentPrior, codes: torch.Tensor, sigma_max: torch.Tensor,
             opt: torch.optim.Optimizer, args: argparse.Namespace) -> dict[str, float]:
    """One step of phase 2: denoise a batch of real codes and N(0, I) draws."""
    b = args.batch * 4
    n_real = int(b * args.real_fraction)
    idx = torch.randint(0, len(codes), (n_real,), device=codes.device)
    gauss = torch.randn(b - n_real, codes.shape[1], device=codes.device).clamp(-args.clip,
                                                                                args.clip)
    h = torch.cat([codes[idx], gauss])
    sigma = torch.rand(b, 1, device=h.device) * sigma_max
    loss = F.mse_loss(r(h + sigma * torch.randn_like(h)), h)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return {"dae_mse": loss.item()}


def main() -> None:
    args = parse_args()
    device = pick_device(args.device, args.threads)
    torch.manual_seed(args.seed)
    g = load_generator(args.gan, device)
    size, dim = g.config.size, g.config.latent_dim
    out = args.out or args.gan.parent.parent / f"prior_{size}"
    rows = read_manifest(args.data)
    pixels = load_pixels(args.data, rows, size).to(device)
    e = Encoder(EncoderConfig(dim, size, args.encoder_width)).to(device)
    opt_e = torch.optim.Adam(e.parameters(), args.lr * 0.5)
    start, elapsed, r, opt_r, sigma_max = 0, 0.0, None, None, None
    state = None if args.fresh else load_state(out / "last.pt")
    if state is not None:
        e.load_state_dict(state["state_dict"]["encoder"])
        opt_e.load_state_dict(state["state_dict"]["opt_e"])
        start, elapsed = int(state["meta"]["iteration"]), float(state["meta"]["elapsed_s"])
        print(f"resumed from {out / 'last.pt'} at iteration {start}", flush=True)
    total = args.encoder_iters + args.dae_iters
    t0 = time.monotonic()
    progress = Progress(total, start, args.log_every, args.save_minutes * 60)

    def checkpoint(it: int) -> None:
        nets = {"encoder": e.state_dict(), "opt_e": opt_e.state_dict()}
        config = {"encoder": dataclasses.asdict(e.config), "gan": str(args.gan),
                  "train": {k: str(v) for k, v in vars(args).items()}}
        if r is not None and opt_r is not None:
            nets |= {"prior": r.state_dict(), "opt_r": opt_r.state_dict()}
            config["prior"] = dataclasses.asdict(r.config)
        save_state(out / "last.pt", nets, config,
                   {"iteration": it, "elapsed_s": elapsed + time.monotonic() - t0,
                    "command": command_line(), "device": str(device)})

    for it in range(start + 1, total + 1):
        if it <= args.encoder_iters:
            idx = torch.randint(0, len(pixels), (args.batch,), device=device)
            values = encoder_step(e, g, to_unit(pixels[idx]), opt_e, args)
        else:
            if r is None:
                codes = real_codes(e, pixels, args.clip)
                sigma_max = args.noise * codes.std(dim=0, keepdim=True)
                noise = float(sigma_max.mean())
                r = LatentPrior(LatentPriorConfig(dim, args.hidden, args.clip, noise)).to(device)
                opt_r = torch.optim.Adam(r.parameters(), args.lr)
                if state is not None and "prior" in state["state_dict"]:
                    r.load_state_dict(state["state_dict"]["prior"])
                    opt_r.load_state_dict(state["state_dict"]["opt_r"])
                print(f"{len(codes)} real codes, mean |h| {codes.abs().mean():.3f}, "
                      f"std {codes.std():.3f}; DAE noise up to {noise:.3f}", flush=True)
            assert opt_r is not None and sigma_max is not None
            values = dae_step(r, codes, sigma_max, opt_r, args)
        progress.log(it, **values)
        if progress.save_due() or it == total or it == args.encoder_iters:
            checkpoint(it)
    print(f"done: {out / 'last.pt'}", flush=True)


if __name__ == "__main__":
    main()
