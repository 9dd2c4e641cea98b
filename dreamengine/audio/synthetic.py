"""Synthetic test signals: deterministic, so tests and benchmarks can know the answer."""

from __future__ import annotations

import numpy as np


def sine(freq: float, seconds: float, sr: int, amplitude: float = 0.5) -> np.ndarray:
    """A pure tone: ``[round(seconds * sr)]`` float32."""
    t = np.arange(round(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def noise(seconds: float, sr: int, amplitude: float = 0.1, seed: int = 0) -> np.ndarray:
    """White noise from a seeded generator."""
    rng = np.random.default_rng(seed)
    return (amplitude * rng.standard_normal(round(seconds * sr))).astype(np.float32)


def clicks(times: list[float], seconds: float, sr: int, amplitude: float = 0.9) -> np.ndarray:
    """Short decaying noise bursts at ``times`` (s): onsets with a known position."""
    out = np.zeros(round(seconds * sr), dtype=np.float32)
    burst = noise(0.02, sr, amplitude, seed=1) * np.exp(-np.linspace(0, 6, int(0.02 * sr)))
    for t in times:
        i = round(t * sr)
        seg = out[i : i + len(burst)]
        seg += burst[: len(seg)].astype(np.float32)
    return out
