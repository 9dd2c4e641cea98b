"""The sound CNN's shape and rate (no torch: ``dreamengine config`` reads it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dreamengine.vocabulary import LABELS


@dataclass(frozen=True)
class ClassifierConfig:
    """Shape of the sound CNN and how often it runs."""

    n_mels: int = 64  # mel bands in
    window_frames: int = 64  # mel frames per analysis window (0.64 s at a 10 ms hop)
    hop_frames: int = 3  # mel frames between classifications (30 ms at a 10 ms hop)
    width: int = 16  # channels of the first conv block; doubles per block (4 blocks)
    labels: tuple[str, ...] = LABELS  # the classes, in output order

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ClassifierConfig:
        """From ``dataclasses.asdict`` as a checkpoint stores it (labels come back a list)."""
        return cls(**{**raw, "labels": tuple(raw["labels"])})
