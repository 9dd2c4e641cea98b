"""How audio enters the pipeline (no heavy imports: ``dreamengine config`` reads it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AudioConfig:
    """How audio enters the pipeline."""

    sr: int = 16000  # Hz, the rate every stage after the source works at
    block_size: int = 480  # samples handed on per read in streaming use (30 ms at 16 kHz)
