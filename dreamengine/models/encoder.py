"""Encoder E: image ``[B, 3, size, size]`` → latent ``[B, latent_dim]``, trained to invert G.

Used only in training (priors/image/train_prior.py): E finds codes of real images, and the
latent prior's denoising autoencoder is fitted to those codes, as PPGN fitted its DAE to the
fc6 codes of real images. Not part of the shipped bundle.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class EncoderConfig:
    latent_dim: int = 128  # dimensions of h
    size: int = 64  # input side in pixels; a power of two ≥ 8
    width: int = 32  # channels after the first block; doubles per block (max 256)


class Encoder(nn.Module):
    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        if config.size < 8 or config.size & (config.size - 1):
            raise ValueError(f"encoder size must be a power of two >= 8, got {config.size}")
        self.config = config
        c_in, c, side = 3, config.width, config.size
        layers: list[nn.Module] = []
        while side > 4:
            layers += [nn.Conv2d(c_in, c, 4, stride=2, padding=1), nn.GroupNorm(8, c),
                       nn.LeakyReLU(0.2)]
            c_in, c, side = c, min(256, c * 2), side // 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c_in * 16, config.latent_dim)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """``[B, 3, size, size]`` → ``[B, latent_dim]``."""
        if image.ndim != 4 or image.shape[1:] != (3, self.config.size, self.config.size):
            side = self.config.size
            raise ValueError(f"expected [B, 3, {side}, {side}], got {tuple(image.shape)}")
        return self.head(self.features(image).flatten(1))
