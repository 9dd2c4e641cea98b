"""The latent prior: a denoising autoencoder R on h, giving PPGN's ε1 term ``R(h) − h``.

Trained to undo Gaussian noise on codes of real images (found by an encoder that inverts G)
mixed with draws from G's own N(0, I) prior, ``R(h) − h`` points toward denser regions of the
latent distribution (Alain & Bengio, 2014; PPGN Eq. 5): toward codes whose images look like
the training set rather than anywhere G happens to be defined. A residual MLP: ``R(h) = h +
net(h)``, so the score is ``net(h)`` with no cancellation error.
"""

from __future__ import annotations

import torch
from torch import nn

from dreamengine.models.configs import LatentPriorConfig


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
        """``R(h) − h`` (``[B, latent_dim]``), the direction toward more probable codes."""
        return self.net(h)
