"""Generator G: latent ``[B, latent_dim]`` → image ``[B, 3, size, size]`` in [-1, 1].

Upsample + 3×3 convolution blocks rather than transposed convolutions: no checkerboard
artefacts, and faster at 256 px on the CPU (DESIGN.md, platform facts). Normalisation is
PixelNorm (ProGAN, Karras et al. 2018): it depends on one sample only, so G behaves the same
in training (batch 64) and in the PPGN sampler (batch 1, eval mode), and the EMA copy of G
needs no re-estimated batch statistics. Every layer is channels_last and bf16-autocast safe.
"""

from __future__ import annotations

import torch
from torch import nn

from dreamengine.models.configs import GeneratorConfig


class PixelNorm(nn.Module):
    """Scales each pixel's feature vector to unit RMS: ``[B, C, H, W]`` → same shape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class Generator(nn.Module):
    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__()
        if config.size < 8 or config.size & (config.size - 1):
            raise ValueError(f"generator size must be a power of two >= 8, got {config.size}")
        if config.convs not in (1, 2):
            raise ValueError(f"generator convs must be 1 or 2, got {config.convs}")
        self.config = config
        c = config.width
        self.project = nn.Linear(config.latent_dim, c * 16)
        self.project_act = nn.Sequential(PixelNorm(), nn.LeakyReLU(0.2))
        blocks: list[nn.Module] = []
        side = 4
        while side < config.size:
            c_next = max(config.min_width, c // 2)
            blocks.append(_up_block(c, c_next, config.convs))
            c, side = c_next, side * 2
        self.blocks = nn.Sequential(*blocks)
        self.to_rgb = nn.Sequential(nn.Conv2d(c, 3, 3, padding=1), nn.Tanh())

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """``[B, latent_dim]`` → ``[B, 3, size, size]``."""
        if h.ndim != 2 or h.shape[1] != self.config.latent_dim:
            raise ValueError(f"expected [B, {self.config.latent_dim}], got {tuple(h.shape)}")
        x = self.project_act(self.project(h).view(h.shape[0], -1, 4, 4))
        return self.to_rgb(self.blocks(x))


def _up_block(c_in: int, c_out: int, convs: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Upsample(scale_factor=2, mode="nearest")]
    for i in range(convs):
        layers += [nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, padding=1), PixelNorm(),
                   nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers)
