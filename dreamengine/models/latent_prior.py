"""The latent prior: a denoising autoencoder R on h, giving PPGN's ε1 term ``R(h) − h``.

Trained to undo Gaussian noise on codes of real images, ``R(h) − h`` points toward denser regions
of the latent distribution (Alain & Bengio, 2014; PPGN Eq. 5).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class LatentPriorConfig:
    latent_dim: int = 128  # dimensions of h
    hidden: int = 512  # hidden units
    clip: float = 3.0  # |h| is kept within this range by the sampler


class LatentPrior(nn.Module):
    def __init__(self, config: LatentPriorConfig) -> None:
        super().__init__()
        self.config = config
        d, k = config.latent_dim, config.hidden
        self.net = nn.Sequential(
            nn.Linear(d, k), nn.LeakyReLU(0.2), nn.Linear(k, k), nn.LeakyReLU(0.2), nn.Linear(k, d)
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Reconstruction ``R(h)``: ``[B, latent_dim]`` → ``[B, latent_dim]``."""
        return h + self.net(h)

    def score(self, h: torch.Tensor) -> torch.Tensor:
        """``R(h) − h``, the direction toward more probable codes."""
        return self.net(h)
