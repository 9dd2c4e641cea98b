"""Condition classifier C: image ``[B, 3, S, S]`` in [-1, 1] → logits over image classes.

PPGN's ε2 term climbs ``log p(y | G(h))`` under C, so C's input gradient is what draws the
class. A strided stem keeps the 128 px step cheap; batch-norm layers are a fixed affine map in
eval mode (the sampler's batch of one sees the same function as validation). C is trained on
real images only, with heavy augmentation (priors/image/train_condition.py), so its gradient
carries shape and colour rather than texture noise. Images larger than ``input_size`` are
average-pooled down first: one C serves the 64 px and 128 px generators, the 128 px step costs
little more than the 64 px one, and the class gradient reaching G carries no pixel-level noise.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dreamengine.models.configs import ConditionConfig


class ConditionNet(nn.Module):
    def __init__(self, config: ConditionConfig) -> None:
        super().__init__()
        self.config = config
        c = config.width
        layers: list[nn.Module] = [_conv_bn(3, c, stride=2)]
        for _ in range(config.blocks):
            c_next = min(256, c * 2)
            layers += [_conv_bn(c, c_next), nn.AvgPool2d(2)]
            c = c_next
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(c, len(config.labels))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """``[B, 3, S, S]`` → ``[B, n_classes]`` logits (softmax over image classes)."""
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"expected [B, 3, S, S], got {tuple(image.shape)}")
        side = image.shape[-1]
        if side > self.config.input_size and side % self.config.input_size == 0:
            image = F.avg_pool2d(image, side // self.config.input_size)
        return self.head(self.dropout(self.features(image).mean(dim=(2, 3))))


def _conv_bn(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
                         nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2))
