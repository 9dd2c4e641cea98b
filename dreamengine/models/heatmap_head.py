"""A heatmap head for the picture classes COCO lacks, on the frozen CenterNet's features.

Musical instruments, emergency vehicles, fire and hand tools have no COCO class, so the
detector alone cannot dream them. :class:`HeatmapHead` reads the same stride-4 map that the
COCO heatmaps come from (``head`` in :meth:`CenterNet.features`, 128 channels) plus the coarser
stride-8 map (``p3``, 192 channels, upsampled) and predicts one heatmap logit per extra class.
It is spatial on purpose: a pooled linear head on these features was fooled by dreaming (every
class at p > 0.999 on canvases that showed nothing, DESIGN.md); a dense map trained on pasted
objects with their masks, with dreamed pictures fed back as negatives, has to be satisfied
*somewhere* in the picture, as COCO's heatmaps are. Trained by ``priors/vision/train_head.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from dreamengine.checkpoint import load_checkpoint, save_checkpoint


@dataclass(frozen=True)
class HeatmapHeadConfig:
    labels: tuple[str, ...] = ("drum", "guitar", "piano", "violin", "trumpet", "saxophone")
    head_channels: int = 128  # channels of CenterNet's stride-4 ``head`` map
    p3_channels: int = 192  # channels of its stride-8 ``p3`` map
    hidden: int = 96  # channels of the head's one hidden layer
    prior_logit: float = -4.0  # initial bias: every class starts rare (sigmoid ≈ 0.018)
    extra: dict[str, Any] = field(default_factory=dict)  # training notes, not used here

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> HeatmapHeadConfig:
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        if "labels" in known:
            known["labels"] = tuple(known["labels"])
        return cls(**known)


class HeatmapHead(nn.Module):
    """``{"head": [B,128,H/4,W/4], "p3": [B,192,H/8,W/8]}`` → ``[B, K, H/4, W/4]`` logits."""

    def __init__(self, config: HeatmapHeadConfig | None = None) -> None:
        super().__init__()
        self.config = config or HeatmapHeadConfig()
        c = self.config
        self.reduce_p3 = nn.Conv2d(c.p3_channels, c.hidden, 1)
        self.reduce_head = nn.Conv2d(c.head_channels, c.hidden, 1)
        self.spread = nn.Conv2d(c.hidden, c.hidden, 3, padding=1, groups=c.hidden)
        self.mix = nn.Conv2d(c.hidden, c.hidden, 1)
        self.out = nn.Conv2d(c.hidden, len(c.labels), 1)
        nn.init.constant_(cast(torch.Tensor, self.out.bias), c.prior_logit)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.config.labels

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        head, p3 = features["head"], features["p3"]
        coarse = F.interpolate(self.reduce_p3(p3), size=head.shape[-2:], mode="nearest")
        x = F.relu(self.reduce_head(head) + coarse)
        x = F.relu(self.mix(self.spread(x)))
        return self.out(x)

    def save(self, path: Path, meta: dict[str, Any] | None = None) -> None:
        """``{state_dict, config, meta}``, written atomically."""
        save_checkpoint({"state_dict": self.state_dict(), "config": asdict(self.config),
                         "meta": meta or {}}, Path(path))

    @classmethod
    def load(cls, path: Path, device: torch.device | str = "cpu") -> HeatmapHead:
        """Rebuild from a checkpoint, frozen; a corrupt or mismatched file is a clear error."""

        def build(ckpt: dict[str, Any]) -> HeatmapHead:
            head = cls(HeatmapHeadConfig.from_dict(ckpt["config"]))
            head.load_state_dict(ckpt["state_dict"])
            return head

        head = load_checkpoint(path, "vision head checkpoint", build)
        return head.to(device).eval().requires_grad_(False)
