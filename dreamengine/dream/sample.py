"""Offline class samples: PPGN chains from fresh latents, as in the PPGN paper (one class mix,
``steps`` steps, ``n`` seeds), for ``dreamengine sample`` and the model-card figures.

The canvas dream samples with :func:`sample_canvases`: chain ``i`` is a still canvas dream of
seed ``seed + i`` stepped ``steps`` times, exactly what the live dream does without motion.

The ``n`` chains run as one batch (the sampler normalises the class gradient per row, so each
chain moves exactly as it would alone); a chain whose latent turns non-finite keeps its last
finite latent, so one bad step never costs a picture.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from dreamengine.dream.state import Dream, VisionModel
from dreamengine.models import ImagePrior
from dreamengine.sampler import PPGNSampler, SamplerConfig, class_log_prob, target_vector


def sample_images(prior: ImagePrior, target: Mapping[str, float], n: int, steps: int,
                  seed: int, params: SamplerConfig) -> list[np.ndarray]:
    """``n`` images ``[S, S, 3]`` uint8 (row 0 = top) after ``steps`` PPGN steps toward
    ``target`` (``{"dog": 1.0}``; empty: drift on the latent prior alone).

    Chain ``i`` starts from the seeded code ``initial_latent(seed)`` row ``i`` and its noise is
    seeded by ``seed + 1``, so the same call gives the same pictures.
    """
    if n < 1 or steps < 0:
        raise ValueError(f"need n >= 1 and steps >= 0, got n={n}, steps={steps}")
    h = sample_latents(prior, target, n, steps, seed, params)
    return images_of(prior, h)


def sample_latents(prior: ImagePrior, target: Mapping[str, float], n: int, steps: int,
                   seed: int, params: SamplerConfig) -> torch.Tensor:
    """The final latents ``[n, latent_dim]`` of the chains :func:`sample_images` runs."""
    device = next(prior.parameters()).device
    sampler = PPGNSampler(prior.generator, prior.prior.score)
    objective = None
    if target:
        weights = target_vector(target, prior.labels).to(device)
        objective = class_log_prob(prior.condition, weights)
    noise = torch.Generator().manual_seed(seed + 1)
    latent_dim = prior.config.generator.latent_dim
    h = PPGNSampler.initial_latent(latent_dim, seed, params.clip, batch=n).to(device)
    for _ in range(steps):
        h_new = sampler.step(h, objective, params, noise).h
        finite = torch.isfinite(h_new).all(dim=1, keepdim=True)
        h = torch.where(finite, h_new, h)
    return h


@torch.no_grad()
def images_of(prior: ImagePrior, h: torch.Tensor) -> list[np.ndarray]:
    """Latents ``[B, latent_dim]`` → ``B`` images ``[S, S, 3]`` uint8, row 0 = top."""
    images = prior.generator(h).float().clamp(-1, 1)
    pixels = ((images + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    return list(pixels)


def sample_canvases(net: VisionModel, target: Mapping[str, float], n: int, steps: int,
                    seed: int, params: SamplerConfig, canvas_px: int) -> list[np.ndarray]:
    """``n`` canvases ``[canvas_px, canvas_px, 3]`` uint8 after ``steps`` still keyframes
    toward ``target`` (one step each); chain ``i`` is seeded ``seed + i``."""
    if n < 1 or steps < 0:
        raise ValueError(f"need n >= 1 and steps >= 0, got n={n}, steps={steps}")
    one_step = SamplerConfig(**{**params.__dict__, "steps_per_keyframe": 1})
    device = next(net.parameters()).device
    images = []
    for i in range(n):
        dream = Dream(net, one_step, seed + i, device, canvas_px)
        for _ in range(steps):
            dream.keyframe(target)
        images.append(dream.image())
    return images
