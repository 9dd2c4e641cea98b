"""The sound CNN and its config; checkpoints carry ``{state_dict, config, meta}``.

Input ``[B, 1, n_mels, window_frames]`` float32 log-mel; output ``[B, n_labels]`` logits, one
independent (sigmoid) probability per label.

Four conv blocks halve frequency and time each (64 × 64 → 4 × 4), so the expensive first conv
stays narrow; the head averages over frequency and takes the max over time, so an event that
fills only the newest ~150 ms of the window still drives its logit (detection latency).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dreamengine.checkpoint import load_checkpoint
from dreamengine.classifier.config import ClassifierConfig


class SoundCNN(nn.Module):
    """Four conv blocks, frequency-mean and time-max pooling, a linear multi-label head."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        self.meta: dict[str, Any] = {}  # the checkpoint's record (training, mel settings, …)
        w = config.width
        self.norm = nn.BatchNorm2d(1)
        self.features = nn.Sequential(
            _block(1, w), _block(w, 2 * w), _block(2 * w, 4 * w), _block(4 * w, 8 * w),
        )
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(8 * w, len(config.labels))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """``[B, 1, n_mels, T]`` log-mel → ``[B, n_labels]`` logits."""
        if mel.ndim != 4 or mel.shape[1] != 1 or mel.shape[2] != self.config.n_mels:
            raise ValueError(f"expected [B, 1, {self.config.n_mels}, T], got {tuple(mel.shape)}")
        x = self.features(self.norm(mel))
        x = x.mean(dim=2).amax(dim=2)  # average over frequency, max over time
        return self.head(self.dropout(x))

    def checkpoint(self, meta: dict[str, Any] | None = None) -> dict[str, Any]:
        """A dict for ``torch.save`` that :meth:`from_checkpoint` rebuilds."""
        return {"state_dict": self.state_dict(), "config": dataclasses.asdict(self.config),
                "meta": meta or {}}

    @classmethod
    def from_dict(cls, ckpt: dict[str, Any]) -> SoundCNN:
        """Rebuild from a dict :meth:`checkpoint` wrote (not an ensemble's: see
        ``dreamengine.classifier.ensemble.load_sound_bundle``)."""
        raw = ckpt["config"]
        if "members" in raw:
            raise ValueError(f"it holds {len(raw['members'])} nets (an ensemble), not one")
        model = cls(ClassifierConfig.from_dict(raw))
        model.load_state_dict(ckpt["state_dict"])
        model.meta = dict(ckpt.get("meta") or {})
        return model

    @classmethod
    def from_checkpoint(cls, path: Path) -> SoundCNN:
        """Load a checkpoint written from :meth:`checkpoint` (``weights_only=True``)."""
        return load_checkpoint(path, "sound classifier checkpoint", cls.from_dict).eval()


def _block(c_in: int, c_out: int) -> nn.Sequential:
    """3×3 conv, batch norm, ReLU, 2×2 max-pool: halves frequency and time."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )
