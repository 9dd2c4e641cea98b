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
from dreamengine.sampler import PPGNSampler, SamplerConfig, class_log_prob, target_vector


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
        self.noise = torch.Generator().manual_seed(seed + 1)
        latent_dim = prior.config.generator.latent_dim
        self.h = PPGNSampler.initial_latent(latent_dim, seed, params.clip).to(device)
        self._last_good = self.h.clone()
        self.resets = 0

    def keyframe(self, target: Mapping[str, float]) -> Keyframe:
        """Run ``steps_per_keyframe`` steps toward ``target`` (empty: drift on the prior)."""
        objective = None
        if target:
            weights = target_vector(target, self.prior.labels).to(self.device)
            objective = class_log_prob(self.prior.condition, weights)
        result = None
        for _ in range(self.params.steps_per_keyframe):
            result = self.sampler.step(self.h, objective, self.params, self.noise)
            self.h = result.h
        assert result is not None
        reset = not (torch.isfinite(self.h).all() and torch.isfinite(result.image).all())
        if reset:
            self.resets += 1
            self.h = self._last_good.clone()
            with torch.no_grad():
                image = self.prior.generator(self.h)
        else:
            self._last_good = self.h.clone()
            image = result.image
        return Keyframe(to_uint8(image[0]), self.h[0].float().cpu().numpy(),
                        float(result.score[0]) if not reset else 0.0, reset)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """``[3, S, S]`` in [-1, 1] → ``[S, S, 3]`` uint8."""
    x = ((image.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(1, 2, 0).contiguous().cpu().numpy()
