"""An image prior bundle: G, the latent prior and C, saved together as one checkpoint.

The file holds ``{"state_dict": {...}, "config": {...}, "meta": {...}}`` and loads with
``weights_only=True``; :meth:`ImagePrior.load` rebuilds every network from the stored config and
turns a missing, corrupt or mismatched file into a :class:`DreamengineError` naming it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dreamengine.checkpoint import load_checkpoint, save_checkpoint
from dreamengine.models.condition import ConditionNet
from dreamengine.models.configs import ImagePriorConfig
from dreamengine.models.generator import Generator
from dreamengine.models.latent_prior import LatentPrior


class ImagePrior(nn.Module):
    """The three PPGN networks, in eval mode, with their shared config and provenance."""

    def __init__(self, config: ImagePriorConfig, meta: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.config = config
        self.meta = meta or {}
        self.generator = Generator(config.generator)
        self.prior = LatentPrior(config.prior)
        self.condition = ConditionNet(config.condition)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.config.condition.labels

    @property
    def trained(self) -> bool:
        """False for the randomly initialised skeleton networks."""
        return bool(self.meta.get("trained", False))

    @classmethod
    def random(cls, config: ImagePriorConfig, seed: int) -> ImagePrior:
        """Untrained networks with a fixed seed (tests and the first skeleton only)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            prior = cls(config, meta={"trained": False, "seed": seed})
        return prior.eval()

    def save(self, path: Path) -> None:
        """Write the bundle atomically (a temporary file renamed over ``path``)."""
        save_checkpoint({"state_dict": self.state_dict(),
                         "config": dataclasses.asdict(self.config), "meta": self.meta}, path)

    @classmethod
    def load(cls, path: Path, device: torch.device | str = "cpu") -> ImagePrior:
        """Rebuild a bundle written by :meth:`save`."""

        def build(ckpt: dict[str, Any]) -> ImagePrior:
            prior = cls(ImagePriorConfig.from_dict(ckpt["config"]), dict(ckpt.get("meta", {})))
            prior.load_state_dict(ckpt["state_dict"])
            return prior

        # sampling differentiates through the nets, never into them: no weight gradients
        prior = load_checkpoint(path, "image prior bundle", build)
        return prior.to(device).eval().requires_grad_(False)
