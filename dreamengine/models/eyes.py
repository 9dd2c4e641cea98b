"""Several vision networks looking at one canvas: every sound drawn by the eye that draws it best.

The photo-trained detector (CenterNet on COCO, with its extra head and patterns) draws animals and
people; an ImageNet classifier (EfficientNet-Lite0) draws vehicles, umbrellas and instruments.
:class:`Eyes` puts them side by side behind one label list: a class is a name on one network.
The first eye's classes keep their bare names (``dog``, ``keyboard_instrument``,
``pattern_music``), so class maps written for it still read; every other eye's classes carry its
name and a colon (``imagenet:umbrella``).

The dream climbs each eye a target needs with its own objective term (:meth:`Eyes.parts`): eyes
whose classes have no weight do not run at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Union

import torch
from torch import nn

from dreamengine.models.imagenet_eye import ImageNetEye
from dreamengine.models.vision import VisionNet

if TYPE_CHECKING:  # importing torchvision pulls in torch._dynamo: only when asked for
    from dreamengine.models.torchvision_vision import TorchvisionVision

Eye = Union[VisionNet, ImageNetEye, "TorchvisionVision"]
SEPARATOR = ":"


class Eyes(nn.Module):
    """Named vision networks; ``labels`` are theirs, each but the first's prefixed by name."""

    def __init__(self, eyes: Sequence[tuple[str, Eye]]) -> None:
        super().__init__()
        if not eyes:
            raise ValueError("Eyes needs at least one vision network")
        names = [name for name, _ in eyes]
        if len(set(names)) != len(names) or any(not n or SEPARATOR in n for n in names):
            raise ValueError(f"eye names must be distinct and free of {SEPARATOR!r}: {names}")
        self.names: tuple[str, ...] = tuple(names)
        self.eyes = nn.ModuleList([eye for _, eye in eyes])
        self.labels: tuple[str, ...] = tuple(
            label if i == 0 else f"{name}{SEPARATOR}{label}"
            for i, (name, eye) in enumerate(eyes) for label in eye.labels)
        sizes = [len(eye.labels) for _, eye in eyes]
        self.bounds: tuple[tuple[int, int], ...] = tuple(
            (sum(sizes[:i]), sum(sizes[: i + 1])) for i in range(len(sizes)))

    def eye(self, name: str) -> Eye:
        """The network called ``name``."""
        return self.eyes[self.names.index(name)]  # type: ignore[return-value]

    def parts(self, weights: torch.Tensor) -> list[tuple[Eye, torch.Tensor]]:
        """``weights`` ``[len(labels)]`` split into ``(eye, its weights)`` for every eye with a
        positive weight, in eye order: the networks this target needs."""
        if weights.shape != (len(self.labels),):
            raise ValueError(f"expected {len(self.labels)} weights, got {tuple(weights.shape)}")
        return [(eye, weights[a:b])  # type: ignore[misc]
                for eye, (a, b) in zip(self.eyes, self.bounds, strict=True)
                if bool((weights[a:b] > 0).any())]
