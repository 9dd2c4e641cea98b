"""The PPGN step on one persistent latent (Nguyen et al., 2017, Eq. 5 and Sec. 2.3).

Each step: ``h ← h + ε1·(R(h) − h) + ε2·lr·g / mean|g| + N(0, ε3²)``, where ``g`` is the
gradient of the class objective with respect to ``h`` through ``G``, normalised as in the PPGN
code so that ``lr`` is the mean absolute change the class term makes per step. ``h`` is then
clipped to the prior's range. Maths only: no I/O, threads or display here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from dreamengine.sampler.config import SamplerConfig
from dreamengine.sampler.objectives import Objective


@dataclass(frozen=True)
class StepResult:
    h: torch.Tensor  # [B, latent_dim] the updated latent
    image: torch.Tensor  # [B, 3, S, S] G(h) before the update, detached, in [-1, 1]
    score: torch.Tensor  # [B] the objective at that image


class PPGNSampler:
    """Steps latents with a generator, a latent prior and an objective."""

    def __init__(self, generator: Callable[[torch.Tensor], torch.Tensor],
                 prior_score: Callable[[torch.Tensor], torch.Tensor]) -> None:
        self.generator = generator
        self.prior_score = prior_score

    def step(self, h: torch.Tensor, objective: Objective | None, params: SamplerConfig,
             noise: torch.Generator | None = None) -> StepResult:
        """One step from ``h`` (``[B, latent_dim]``); ``objective=None`` drifts on the prior."""
        h = h.detach().requires_grad_(objective is not None)
        with torch.enable_grad():
            image = self.generator(h)
            if objective is not None:
                score = objective(image)
                (grad,) = torch.autograd.grad(score.sum(), h)
            else:
                score = torch.zeros(h.shape[0], device=h.device)
        with torch.no_grad():
            h = h.detach()
            delta = params.eps1 * self.prior_score(h)
            if objective is not None:
                norm = grad.abs().mean(dim=1, keepdim=True).clamp_min(1e-12)
                delta = delta + params.eps2 * params.lr * grad / norm
            if params.eps3 > 0:
                xi = torch.randn(h.shape, generator=noise, device="cpu").to(h.device)
                delta = delta + params.eps3 * xi
            h_new = (h + delta).clamp(-params.clip, params.clip)
        return StepResult(h_new, image.detach(), score.detach())

    @staticmethod
    def initial_latent(latent_dim: int, seed: int, clip: float, batch: int = 1) -> torch.Tensor:
        """A fresh ``[batch, latent_dim]`` code from N(0, 1), seeded, within the clip range."""
        g = torch.Generator().manual_seed(seed)
        return torch.randn(batch, latent_dim, generator=g).clamp(-clip, clip)
