"""The ImageNet eye: EfficientNet-Lite0 (ImageNet-1k) as score maps the canvas dream climbs.

A classifier has no spatial output, so each class's map is its class activation map (Zhou et
al. 2016) on the last feature map ``f`` (stride 32): ``map_k = logit_k + W_k·(f(x, y) − mean f)``,
which averages exactly to the class's logit. The dream climbs the whole map's mean — the logit
itself (:attr:`ImageNetEye.top_fraction` = 1), as the prototype that was judged did — and does
not push rival classes down (ImageNet's near-duplicates, a sports car and a racer, would fight).
Only the wanted classes' maps are computed (a thousand maps would cost more than the network).

Class names are ``priors/vision/imagenet_classes.txt``: the 1000 ImageNet-1k categories in index
order, lower case, words joined by ``_`` (``sports_car``, ``grand_piano``, ``umbrella``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from dreamengine.errors import DreamengineError
from dreamengine.models.efficientnet_lite import (
    EFFICIENTNET_MEAN,
    EFFICIENTNET_STD,
    EfficientNetLite,
)

UNSCORED = -30.0  # the score of a class that was not computed (no term reads it)
N_CLASSES = 1000


def read_class_names(path: Path) -> tuple[str, ...]:
    """The class names of ``path``: one per line, ``#`` comments and blank lines skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DreamengineError(f"cannot read the ImageNet class names {path}: {exc}") from None
    names = tuple(s for s in (line.split("#", 1)[0].strip() for line in lines) if s)
    if len(names) != N_CLASSES or len(set(names)) != N_CLASSES:
        raise DreamengineError(f"{path} must name {N_CLASSES} distinct classes, one per line; "
                               f"it names {len(set(names))}")
    return names


class ImageNetEye(nn.Module):
    """Per-class score maps of RGB images from an ImageNet EfficientNet-Lite; frozen."""

    top_fraction = 1.0  # the share of a map's places a class is climbed on: all (the logit)
    suppress = 0.0  # how hard the strongest unwanted class is pushed down: not at all

    def __init__(self, net: EfficientNetLite, labels: tuple[str, ...]) -> None:
        super().__init__()
        if len(labels) != net.fc.out_features:
            raise ValueError(f"{len(labels)} class names for {net.fc.out_features} outputs")
        self.net = net.eval().requires_grad_(False)
        self.labels = labels
        self.n_detector = len(labels)
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", torch.tensor(EFFICIENTNET_MEAN).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer("std", torch.tensor(EFFICIENTNET_STD).view(1, 3, 1, 1),
                             persistent=False)

    def heatmaps(self, rgb: torch.Tensor, classes: torch.Tensor | None = None) -> torch.Tensor:
        """``[B, 3, H, W]`` RGB 0..1 → ``[B, 1000, H/32, W/32]`` class activation maps (rounded
        up); with ``classes`` (indices) only those are computed, the rest read
        :data:`UNSCORED`."""
        if rgb.dim() != 4 or rgb.shape[1] != 3:
            raise ValueError(f"expected [B, 3, H, W] RGB, got {tuple(rgb.shape)}")
        features = self.net.features((rgb - self.mean) / self.std)  # [B, C, h, w]
        pooled = features.mean(dim=(2, 3))
        weight: torch.Tensor = self.net.fc.weight
        bias: torch.Tensor = self.net.fc.bias
        if classes is not None:
            weight, bias = weight[classes], bias[classes]
        score = pooled @ weight.T + bias  # [B, k]: the logits
        deviation = features - pooled[..., None, None]
        maps = score[..., None, None] + torch.einsum("kc,bchw->bkhw", weight, deviation)
        if classes is None:
            return maps
        full = maps.new_full((maps.shape[0], len(self.labels), *maps.shape[-2:]), UNSCORED)
        return full.index_copy(1, classes, maps)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return self.heatmaps(rgb)

    def scorer(self, weights: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """The maps a dream toward ``weights`` ``[1000]`` needs: the wanted classes' only."""
        wanted = torch.nonzero(weights > 0).flatten().to(self.mean.device)
        return functools.partial(self.heatmaps, classes=wanted)

    @classmethod
    def load(cls, path: Path, names: Path, device: torch.device | str = "cpu") -> ImageNetEye:
        """The shipped (or a user's) EfficientNet-Lite checkpoint with its class names."""
        return cls(EfficientNetLite.load(path, device), read_class_names(names)).to(device)
