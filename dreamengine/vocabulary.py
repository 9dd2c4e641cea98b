"""The embedded class vocabulary shared by the sound classifier and the image prior.

Scene labels follow UrbanSound8K and the seed; music labels are children of ``music`` so a band
does not collapse to one static class. The classifier is multi-label: one independent probability
per label, and ``music`` is never below any of its children (see :func:`enforce_hierarchy`).
"""

from __future__ import annotations

import numpy as np

SCENE_LABELS: tuple[str, ...] = (
    "dog", "bird", "siren", "car_horn", "engine", "tools", "music",
    "speech", "rain", "crowd", "explosion", "farm_animal", "other",
)
MUSIC_LABELS: tuple[str, ...] = ("drums", "guitar", "keys", "strings", "brass", "woodwind", "voice")
LABELS: tuple[str, ...] = SCENE_LABELS + MUSIC_LABELS
PARENT_OF: dict[str, str] = {child: "music" for child in MUSIC_LABELS}


def label_index(labels: tuple[str, ...], name: str) -> int:
    """Position of ``name`` in ``labels``; a ValueError lists the known labels."""
    try:
        return labels.index(name)
    except ValueError:
        raise ValueError(f"unknown class {name!r}; known: {', '.join(labels)}") from None


def enforce_hierarchy(probs: np.ndarray, labels: tuple[str, ...] = LABELS) -> np.ndarray:
    """Raise each parent's probability to at least its most probable child.

    ``probs`` is ``[..., len(labels)]``; returns a new array of the same shape.
    """
    if probs.shape[-1] != len(labels):
        raise ValueError(f"expected {len(labels)} probabilities, got shape {probs.shape}")
    out = np.array(probs, copy=True)
    for child, parent in PARENT_OF.items():
        if child in labels and parent in labels:
            c, p = labels.index(child), labels.index(parent)
            out[..., p] = np.maximum(out[..., p], out[..., c])
    return out
