"""Condition classifier C: image ``[B, 3, S, S]`` in [-1, 1] → logits over image classes."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from dreamengine.vocabulary import LABELS


@dataclass(frozen=True)
class ConditionConfig:
    width: int = 32  # channels of the first block; doubles per block
    blocks: int = 4  # conv blocks, each halving the side
    labels: tuple[str, ...] = LABELS  # image classes


class ConditionNet(nn.Module):
    def __init__(self, config: ConditionConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        c_in, c = 3, config.width
        for _ in range(config.blocks):
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.LeakyReLU(0.2), nn.AvgPool2d(2)]
            c_in, c = c, c * 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c_in, len(config.labels))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """``[B, 3, S, S]`` → ``[B, n_classes]`` logits (softmax over image classes)."""
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"expected [B, 3, S, S], got {tuple(image.shape)}")
        return self.head(self.features(image).mean(dim=(2, 3)))
