"""Generator G: latent ``[B, latent_dim]`` → image ``[B, 3, size, size]`` in [-1, 1].

Upsample + 3×3 convolution blocks rather than transposed convolutions: no checkerboard
artefacts, and faster at 256 px on the CPU (DESIGN.md, platform facts).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class GeneratorConfig:
    latent_dim: int = 128  # dimensions of h
    size: int = 64  # output side in pixels; a power of two ≥ 8
    width: int = 256  # channels at 4×4; halves per upsampling block (min 32)


class Generator(nn.Module):
    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__()
        if config.size < 8 or config.size & (config.size - 1):
            raise ValueError(f"generator size must be a power of two >= 8, got {config.size}")
        self.config = config
        c = config.width
        self.project = nn.Linear(config.latent_dim, c * 16)
        blocks: list[nn.Module] = []
        side = 4
        while side < config.size:
            c_next = max(32, c // 2)
            blocks.append(_up_block(c, c_next))
            c, side = c_next, side * 2
        self.blocks = nn.Sequential(*blocks)
        self.to_rgb = nn.Sequential(nn.Conv2d(c, 3, 3, padding=1), nn.Tanh())

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """``[B, latent_dim]`` → ``[B, 3, size, size]``."""
        if h.ndim != 2 or h.shape[1] != self.config.latent_dim:
            raise ValueError(f"expected [B, {self.config.latent_dim}], got {tuple(h.shape)}")
        x = self.project(h).view(h.shape[0], -1, 4, 4)
        return self.to_rgb(self.blocks(x))


def _up_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(c_in, c_out, 3, padding=1),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(0.2, inplace=True),
    )
