"""The dream: one persistent latent stepped by the PPGN sampler toward the selected classes.

State plus maths, no threads: the live worker (and the offline loop) call :meth:`Dream.keyframe`.
A latent that turns non-finite is reset to the last good one and reported once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from dreamengine.models import ImagePrior
from dreamengine.sampler import (
    Objective,
    PPGNSampler,
    SamplerConfig,
    class_log_prob,
    regional_log_prob,
    spatial_parts,
    target_vector,
)


@dataclass(frozen=True)
class Keyframe:
    image: np.ndarray  # [S, S, 3] uint8, row 0 = top
    latent: np.ndarray  # [latent_dim] float32, the code the image came from
    score: float  # the class objective at that image (0 when drifting)
    reset: bool  # True when this keyframe followed a NaN reset


class Dream:
    def __init__(self, prior: ImagePrior, params: SamplerConfig, seed: int,
                 device: torch.device) -> None:
        self.prior = prior
        self.params = params
        self.device = device
        self.sampler = PPGNSampler(prior.generator, prior.prior.score)
        self.resets = 0
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        """Start again from the fresh latent of ``seed`` (and its noise stream)."""
        self.seed = seed
        self.noise = torch.Generator().manual_seed(seed + 1)
        latent_dim = self.prior.config.generator.latent_dim
        self.h = PPGNSampler.initial_latent(latent_dim, seed, self.params.clip).to(self.device)
        self._last_good = self.h.clone()

    def reset(self) -> None:
        """Back to the current seed's first latent."""
        self.reseed(self.seed)

    def objective(self, target: Mapping[str, float]) -> Objective | None:
        """The class term for ``target``: a weighted mixture, or with ``spatial`` one region
        of the canvas per class; ``None`` (drift on the prior) for an empty target."""
        if not target:
            return None
        weights = target_vector(target, self.prior.labels).to(self.device)
        condition = self.prior.condition
        if self.params.spatial and int((weights > 0).sum()) > 1:
            size = min(condition.config.input_size, self.prior.config.generator.size)
            return regional_log_prob(condition, spatial_parts(weights), size)
        return class_log_prob(condition, weights)

    def keyframe(self, target: Mapping[str, float]) -> Keyframe:
        """Run ``steps_per_keyframe`` steps toward ``target`` (empty: drift on the prior)."""
        objective = self.objective(target)
        score = 0.0
        for _ in range(self.params.steps_per_keyframe):
            result = self.sampler.step(self.h, objective, self.params, self.noise)
            self.h, score = result.h, float(result.score[0])
        image = image_of(self.prior, self.h) if torch.isfinite(self.h).all() else None
        reset = image is None or not bool(np.isfinite(score))
        if reset:
            self.resets += 1
            self.h = self._last_good.clone()
            image, score = image_of(self.prior, self.h), 0.0
        else:
            self._last_good = self.h.clone()
        assert image is not None
        return Keyframe(image, self.h[0].float().cpu().numpy(), score, reset)


@torch.no_grad()
def image_of(prior: ImagePrior, h: torch.Tensor) -> np.ndarray:
    """The keyframe a latent ``[1, latent_dim]`` shows: ``[S, S, 3]`` uint8, row 0 = top.

    Live runs and ``replay`` both go through here, so a replayed keyframe is bit-identical.
    """
    image = prior.generator(h)[0].float().clamp(-1, 1)
    return ((image + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
