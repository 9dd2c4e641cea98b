"""Referee classifier: a second opinion on PPGN samples, of another architecture and seed.

C's gradient drives the sampler, so C's own verdict on the samples is biased (they may be
adversarial to C alone). The referee — residual blocks with GroupNorm, max-pooling and GELU,
against C's plain strided conv/BN stack — is trained separately on the same real images and
reports whether a sample reads as its class to a network that never steered it. It ships as a
small separate checkpoint (``priors/image/referee.pt``), not inside the engine's bundle.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dreamengine.checkpoint import load_checkpoint, save_checkpoint
from dreamengine.vocabulary import LABELS


@dataclass(frozen=True)
class RefereeConfig:
    width: int = 24  # channels of the first stage; doubles per stage (max 192)
    stages: int = 4  # residual stages, each followed by a 2× max-pool
    labels: tuple[str, ...] = LABELS  # image classes

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RefereeConfig:
        return cls(**{**raw, "labels": tuple(raw["labels"])})


class _Residual(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1), nn.GroupNorm(4, c_out), nn.GELU(),
            nn.Conv2d(c_out, c_out, 3, padding=1), nn.GroupNorm(4, c_out))
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.skip(x))


class RefereeNet(nn.Module):
    def __init__(self, config: RefereeConfig, meta: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.config = config
        self.meta = meta or {}
        layers: list[nn.Module] = []
        c_in, c = 3, config.width
        for _ in range(config.stages):
            layers += [_Residual(c_in, c), nn.MaxPool2d(2)]
            c_in, c = c, min(192, c * 2)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(c_in, len(config.labels))

    @property
    def labels(self) -> tuple[str, ...]:
        return self.config.labels

    def features(self, image: torch.Tensor) -> torch.Tensor:
        """``[B, 3, S, S]`` → ``[B, F]`` pooled features (for the diversity figure)."""
        if image.ndim != 4 or image.shape[1] != 3:
            raise ValueError(f"expected [B, 3, S, S], got {tuple(image.shape)}")
        return self.body(image).amax(dim=(2, 3))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """``[B, 3, S, S]`` in [-1, 1] → ``[B, n_classes]`` logits."""
        return self.head(self.features(image))

    def save(self, path: Path) -> None:
        save_checkpoint({"state_dict": self.state_dict(),
                         "config": dataclasses.asdict(self.config), "meta": self.meta}, path)

    @classmethod
    def from_checkpoint(cls, path: Path, device: torch.device | str = "cpu") -> RefereeNet:
        """Rebuild a referee written by :meth:`save`; bad files raise DreamengineError."""

        def build(ckpt: dict[str, Any]) -> RefereeNet:
            net = cls(RefereeConfig.from_dict(ckpt["config"]), dict(ckpt.get("meta", {})))
            net.load_state_dict(ckpt["state_dict"])
            return net

        return load_checkpoint(path, "referee classifier", build).to(device).eval()
