"""The first design's network shapes (no torch: ``dreamengine config`` reads them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dreamengine.vocabulary import LABELS


@dataclass(frozen=True)
class GeneratorConfig:
    latent_dim: int = 128  # dimensions of h
    size: int = 64  # output side in pixels; a power of two ≥ 8
    width: int = 256  # channels at 4×4; halves per upsampling block down to min_width
    convs: int = 1  # 3×3 convolutions per upsampling block (1 or 2)
    min_width: int = 32  # fewest channels of a block (16 halves the cost of the 128 px block)


@dataclass(frozen=True)
class LatentPriorConfig:
    latent_dim: int = 128  # dimensions of h
    hidden: int = 512  # hidden units
    clip: float = 3.0  # |h| is kept within this range by the sampler
    noise: float = 0.3  # std of the corruption it was trained to undo (latent units, max)


@dataclass(frozen=True)
class ConditionConfig:
    width: int = 32  # channels after the stem; doubles per block (max 256)
    blocks: int = 4  # conv blocks after the stem, each halving the side
    labels: tuple[str, ...] = LABELS  # image classes
    dropout: float = 0.2  # before the linear head (training only)
    input_size: int = 64  # larger images are average-pooled to this side first (pixels)


@dataclass(frozen=True)
class ImagePriorConfig:
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    prior: LatentPriorConfig = field(default_factory=LatentPriorConfig)
    condition: ConditionConfig = field(default_factory=ConditionConfig)

    def __post_init__(self) -> None:
        if self.generator.latent_dim != self.prior.latent_dim:
            raise ValueError(
                f"generator latent_dim {self.generator.latent_dim} != prior latent_dim "
                f"{self.prior.latent_dim}"
            )

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ImagePriorConfig:
        cond = dict(raw["condition"])
        cond["labels"] = tuple(cond["labels"])
        return cls(GeneratorConfig(**raw["generator"]), LatentPriorConfig(**raw["prior"]),
                   ConditionConfig(**cond))
