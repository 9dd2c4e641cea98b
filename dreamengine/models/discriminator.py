"""Discriminator D for training G (not part of the shipped bundle).

Spectral-normalised convolutions (Miyato et al., 2018) keep D 1-Lipschitz-ish, which with the
hinge loss is what lets a small G train stably on a few thousand images. Image
``[B, 3, size, size]`` in [-1, 1] → one realness score per image ``[B]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


@dataclass(frozen=True)
class DiscriminatorConfig:
    size: int = 64  # input side in pixels; a power of two ≥ 8
    width: int = 32  # channels at full resolution; doubles per block up to max_width
    max_width: int = 128  # channel cap (≈1.0 M parameters at 64 px with the defaults)


class Discriminator(nn.Module):
    def __init__(self, config: DiscriminatorConfig) -> None:
        super().__init__()
        if config.size < 8 or config.size & (config.size - 1):
            raise ValueError(f"discriminator size must be a power of two >= 8, got {config.size}")
        self.config = config
        c = config.width
        layers: list[nn.Module] = [spectral_norm(nn.Conv2d(3, c, 3, padding=1)),
                                   nn.LeakyReLU(0.2)]
        side = config.size
        while side > 4:
            c_next = min(config.max_width, c * 2)
            layers += [spectral_norm(nn.Conv2d(c, c, 3, padding=1)), nn.LeakyReLU(0.2),
                       spectral_norm(nn.Conv2d(c, c_next, 4, stride=2, padding=1)),
                       nn.LeakyReLU(0.2)]
            c, side = c_next, side // 2
        self.features = nn.Sequential(*layers)
        self.head = spectral_norm(nn.Linear(c * 16, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """``[B, 3, size, size]`` → ``[B]`` scores (higher = more real)."""
        if image.ndim != 4 or image.shape[1:] != (3, self.config.size, self.config.size):
            side = self.config.size
            raise ValueError(f"expected [B, 3, {side}, {side}], got {tuple(image.shape)}")
        return self.head(self.features(image).flatten(1)).squeeze(1)
