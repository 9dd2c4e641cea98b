"""The vision network the canvas dream climbs: COCO heatmaps plus deep-dream pattern maps.

:class:`VisionNet` wraps the photo-trained :class:`CenterNet` and answers one question for the
dream: per image class, a map of how strongly each place of the picture shows it. The 80 COCO
classes come from the detector's heatmap logits (stride 4). Labels COCO lacks (music and its
instruments, explosions) have no trained head yet: each gets a *pattern* — the mean of its own
fixed group of the backbone's stride-16 channels (``c4``), the classic deep-dream objective — so
different instruments raise different textures, honestly named ``pattern_*`` rather than drawn.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from dreamengine.models.centernet import CenterNet

PATTERNS = ("pattern_music", "pattern_drums", "pattern_guitar", "pattern_keys",
            "pattern_strings", "pattern_brass", "pattern_woodwind", "pattern_explosion")
PATTERN_LAYER = "c4"  # backbone map the patterns read: [B, 88, H/16, W/16]
PATTERN_SCALE = 4.0  # pattern means × this ≈ the spread of heatmap logits on dreamed canvases


class VisionNet(nn.Module):
    """Per-class score maps of RGB images; frozen, eval mode."""

    def __init__(self, detector: CenterNet, patterns: tuple[str, ...] = PATTERNS,
                 seed: int = 0) -> None:
        super().__init__()
        self.detector = detector.eval().requires_grad_(False)
        self.patterns = patterns
        self.n_detector = len(detector.labels)
        channels = 88
        per = channels // max(1, len(patterns))
        order = torch.randperm(channels, generator=torch.Generator().manual_seed(seed))
        self.pattern_channels: torch.Tensor
        self.register_buffer("pattern_channels", order[: per * len(patterns)].view(-1, per),
                             persistent=False)

    @property
    def labels(self) -> tuple[str, ...]:
        """The COCO classes (in the detector's order), then the patterns."""
        return tuple(self.detector.labels) + self.patterns

    def heatmaps(self, rgb: torch.Tensor) -> torch.Tensor:
        """``[B, 3, S, S]`` RGB 0..1 (S a multiple of 32) → ``[B, K, S/4, S/4]`` score maps:
        heatmap logits for the detector's classes, scaled pattern means for the rest."""
        features = self.detector.features(rgb * 255.0)
        logits = self.detector.cls(features["head"])
        if not self.patterns:
            return logits
        deep = features[PATTERN_LAYER]
        b, _, h, w = deep.shape
        channels = self.pattern_channels.flatten()
        groups = deep[:, channels].view(b, len(self.patterns), -1, h, w)
        pattern = PATTERN_SCALE * groups.mean(dim=2)
        pattern = F.interpolate(pattern, size=logits.shape[-2:], mode="nearest")
        return torch.cat([logits, pattern], dim=1)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return self.heatmaps(rgb)

    @classmethod
    def load(cls, path: Path, device: torch.device | str = "cpu") -> VisionNet:
        """The shipped (or a user's) CenterNet checkpoint, wrapped."""
        return cls(CenterNet.load(path, device)).to(device)
