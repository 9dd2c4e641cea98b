"""Objectives on generated images, as small closures that add and scale.

An objective maps an image batch ``[B, 3, S, S]`` to a score ``[B]`` that the sampler climbs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F

Objective = Callable[[torch.Tensor], torch.Tensor]


def target_vector(target: Mapping[str, float], labels: tuple[str, ...]) -> torch.Tensor:
    """``{"dog": 0.7, "bird": 0.3}`` → ``[len(labels)]`` float32 weights; unknown names raise."""
    w = torch.zeros(len(labels), dtype=torch.float32)
    for name, weight in target.items():
        if name not in labels:
            raise ValueError(f"unknown image class {name!r}; known: {', '.join(labels)}")
        w[labels.index(name)] = float(weight)
    return w


def class_log_prob(condition: Callable[[torch.Tensor], torch.Tensor],
                   weights: torch.Tensor) -> Objective:
    """``Σk wk log p(yk | x)`` under the condition net's softmax (PPGN's ε2 term)."""

    def objective(image: torch.Tensor) -> torch.Tensor:
        log_p = F.log_softmax(condition(image).float(), dim=1)
        return (log_p * weights.to(log_p.device)).sum(dim=1)

    return objective


def add(*terms: Objective) -> Objective:
    """The sum of several objectives."""

    def objective(image: torch.Tensor) -> torch.Tensor:
        return torch.stack([t(image) for t in terms]).sum(dim=0)

    return objective


def scale(term: Objective, factor: float) -> Objective:
    """An objective multiplied by a constant."""
    return lambda image: factor * term(image)
