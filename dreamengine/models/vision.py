"""The vision network the canvas dream climbs: COCO heatmaps, a trained extra head, patterns.

:class:`VisionNet` wraps the photo-trained :class:`CenterNet` and answers one question for the
dream: per image class, a map of how strongly each place of the picture shows it. The 80 COCO
classes come from the detector's heatmap logits (stride 4). Picture classes COCO lacks
(instruments, emergency vehicles, fire, hand tools) come from a :class:`HeatmapHead` trained on
the frozen backbone's features, when one is given. Last come the *patterns* — each the mean of
its own fixed group of the backbone's stride-16 channels (``c4``), the classic deep-dream
objective — honestly named ``pattern_*``: textures, not things, for labels nothing draws.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from dreamengine.models.centernet import CenterNet
from dreamengine.models.heatmap_head import HeatmapHead

PATTERNS = ("pattern_music", "pattern_drums", "pattern_guitar", "pattern_keys",
            "pattern_strings", "pattern_brass", "pattern_woodwind", "pattern_explosion")
PATTERN_LAYER = "c4"  # backbone map the patterns read: [B, 88, H/16, W/16]
PATTERN_SCALE = 4.0  # pattern means × this ≈ the spread of heatmap logits on dreamed canvases
UNSCORED = -30.0  # logit given to the head's classes when they were not computed (below any map)


class VisionNet(nn.Module):
    """Per-class score maps of RGB images; frozen, eval mode."""

    top_fraction = 1 / 16  # a class is climbed on the top 1/16 of its map's places (one object)
    suppress = 0.5  # and the strongest unwanted thing is pushed down this hard

    def __init__(self, detector: CenterNet, patterns: tuple[str, ...] = PATTERNS,
                 seed: int = 0, head: HeatmapHead | None = None) -> None:
        super().__init__()
        self.detector = detector.eval().requires_grad_(False)
        self.head = head.eval().requires_grad_(False) if head is not None else None
        self.patterns = patterns
        # classes that are things (COCO + head): the rivals a new target pushes down
        self.n_detector = len(detector.labels) + len(self.head_labels)
        channels = 88
        per = channels // max(1, len(patterns))
        order = torch.randperm(channels, generator=torch.Generator().manual_seed(seed))
        self.pattern_channels: torch.Tensor
        self.register_buffer("pattern_channels", order[: per * len(patterns)].view(-1, per),
                             persistent=False)

    @property
    def head_labels(self) -> tuple[str, ...]:
        return self.head.labels if self.head is not None else ()

    @property
    def labels(self) -> tuple[str, ...]:
        """The COCO classes (in the detector's order), the head's classes, then the patterns."""
        return tuple(self.detector.labels) + self.head_labels + self.patterns

    def heatmaps(self, rgb: torch.Tensor, head: bool = True) -> torch.Tensor:
        """``[B, 3, S, S]`` RGB 0..1 (S a multiple of 32) → ``[B, K, S/4, S/4]`` score maps:
        heatmap logits for the detector's and the head's classes, scaled pattern means for the
        rest. With ``head=False`` the extra head is skipped (a sixth of a dream step) and its
        classes read :data:`UNSCORED` everywhere, so the class order stays the same."""
        features = self.detector.features(rgb * 255.0)
        logits = self.detector.cls(features["head"])
        if self.head is not None:
            extra = (self.head(features) if head else
                     logits.new_full((logits.shape[0], len(self.head_labels), *logits.shape[-2:]),
                                     UNSCORED))
            logits = torch.cat([logits, extra], dim=1)
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

    def scorer(self, weights: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """The score maps a dream toward ``weights`` ``[K]`` needs: the extra head only while
        one of its classes is wanted (otherwise its classes are no rivals either)."""
        first = len(self.detector.labels)
        wanted = bool((weights[first : first + len(self.head_labels)] > 0).any())
        return functools.partial(self.heatmaps, head=wanted)

    @classmethod
    def load(cls, path: Path, device: torch.device | str = "cpu",
             head: Path | None = None) -> VisionNet:
        """The shipped (or a user's) CenterNet checkpoint, wrapped, with an extra head's
        checkpoint when one is named."""
        extra = HeatmapHead.load(head, device) if head is not None else None
        return cls(CenterNet.load(path, device), head=extra).to(device)
