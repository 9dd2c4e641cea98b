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


GOLDEN = 0.6180339887498949  # the golden ratio's fractional part: the most even turn-taking


def take_turns(terms: list[Objective], shares: list[float], step: int) -> Objective | None:
    """The term that step ``step`` climbs when several take turns (one network per step costs
    what one costs): ``step·φ mod 1`` falls in each term's share of [0, 1), so over any run of
    steps each term gets close to its share of them, and the choice depends on ``step`` alone
    (a replay re-simulates it)."""
    if len(terms) <= 1:
        return terms[0] if terms else None
    total = sum(shares)
    u, edge = (step * GOLDEN) % 1.0, 0.0
    for term, share in zip(terms, shares, strict=True):
        edge += share / total
        if u < edge:
            return term
    return terms[-1]


Box = tuple[float, float, float, float]  # left, top, width, height as fractions of the image


def regions(n: int) -> list[Box]:
    """Where ``n`` classes go in a spatial blend: 1 whole, 2 side by side, 3 left + two
    stacked right, 4 quadrants. Square boxes overlap a little so the seams blend."""
    if n <= 1:
        return [(0.0, 0.0, 1.0, 1.0)]
    if n == 2:
        return [(0.0, 0.1875, 0.625, 0.625), (0.375, 0.1875, 0.625, 0.625)]
    quad = [(0.0, 0.0, 0.5625, 0.5625), (0.4375, 0.0, 0.5625, 0.5625),
            (0.0, 0.4375, 0.5625, 0.5625), (0.4375, 0.4375, 0.5625, 0.5625)]
    if n == 3:
        return [(0.0, 0.1875, 0.625, 0.625), quad[1], quad[3]]
    return quad


def crop(image: torch.Tensor, box: Box, size: int) -> torch.Tensor:
    """The ``box`` of ``[B, 3, S, S]`` images, resampled to ``size``² (differentiable)."""
    side = image.shape[-1]
    x0, y0 = round(box[0] * side), round(box[1] * side)
    w, h = max(1, round(box[2] * side)), max(1, round(box[3] * side))
    part = image[:, :, y0 : y0 + h, x0 : x0 + w]
    if part.shape[-2:] == (size, size):
        return part
    return F.interpolate(part, size=(size, size), mode="bilinear", align_corners=False,
                         antialias=part.shape[-1] > size)


def regional_log_prob(condition: Callable[[torch.Tensor], torch.Tensor],
                      parts: list[tuple[torch.Tensor, Box]], size: int) -> Objective:
    """The spatial blend: ``Σ_regions Σk wk log p(yk | crop)``, each region scored on its own
    ``[n_classes]`` weights, so different classes grow in different parts of the canvas."""
    terms = [_on_crop(class_log_prob(condition, weights), box, size) for weights, box in parts]
    return add(*terms)


def _on_crop(term: Objective, box: Box, size: int) -> Objective:
    return lambda image: term(crop(image, box, size))


def spatial_parts(weights: torch.Tensor, max_regions: int = 4) -> list[tuple[torch.Tensor, Box]]:
    """One region per class with weight, strongest first (at most ``max_regions``), each
    scored on a one-hot of its class times its weight."""
    order = [int(i) for i in torch.argsort(weights, descending=True) if weights[i] > 0]
    order = order[:max_regions]
    parts = []
    for i, box in zip(order, regions(len(order)), strict=True):
        one = torch.zeros_like(weights)
        one[i] = weights[i]
        parts.append((one, box))
    return parts


def top_mean(maps: torch.Tensor, fraction: float, mask: torch.Tensor | None = None,
             ) -> torch.Tensor:
    """Mean of the top ``fraction`` of locations of ``maps`` ``[B, H, W]`` (inside ``mask``
    ``[H, W]`` bool when given) → ``[B]``: a class is driven where it is strongest, so it can
    grow as one object rather than as a texture over the whole canvas."""
    flat = maps.flatten(1) if mask is None else maps.flatten(1)[:, mask.flatten()]
    if flat.shape[1] == 0:  # a region with no place in a coarse map (a 1×1 classifier map)
        return maps.flatten(1)[:, :1].mul(0.0).sum(dim=1)
    k = max(1, round(flat.shape[1] * fraction))
    return flat.topk(k, dim=1).values.mean(dim=1)


def box_mask(box: Box, shape: tuple[int, int], device: torch.device | str) -> torch.Tensor:
    """``[H, W]`` bool, True inside ``box`` (fractions of the map)."""
    h, w = shape
    ys = (torch.arange(h, device=device) + 0.5) / h
    xs = (torch.arange(w, device=device) + 0.5) / w
    inside_y = (ys >= box[1]) & (ys <= box[1] + box[3])
    inside_x = (xs >= box[0]) & (xs <= box[0] + box[2])
    return inside_y[:, None] & inside_x[None, :]


def heatmap_objective(heatmaps: Callable[[torch.Tensor], torch.Tensor], weights: torch.Tensor,
                      spatial: bool = False, fraction: float = 1 / 16,
                      suppress: float = 0.5, rival_classes: int | None = None) -> Objective:
    """Climb class heatmaps: ``Σk wk·top_mean(map_k) − suppress·top_mean(max_j map_j)``.

    ``heatmaps`` maps RGB 0..1 images ``[B, 3, S, S]`` to per-class logit maps
    ``[B, K, h, w]``; ``weights`` ``[K]``. The second term lowers the strongest class that is
    not wanted (the first ``rival_classes`` classes only; None: all), so the previous target
    and the network's default answers fade while a new one grows. With ``spatial`` each wanted
    class is raised in its own region (see :func:`regions`) and lowered in the others'.
    """
    wanted = [int(i) for i in torch.argsort(weights, descending=True) if weights[i] > 0][:4]
    boxes = regions(len(wanted)) if spatial else [(0.0, 0.0, 1.0, 1.0)] * len(wanted)
    rivals = torch.ones(len(weights), dtype=torch.bool)
    rivals[wanted] = False
    if rival_classes is not None:
        rivals[rival_classes:] = False

    masks_by_shape: dict[tuple[int, int], list[torch.Tensor]] = {}  # the same every step

    def objective(image: torch.Tensor) -> torch.Tensor:
        maps = heatmaps(image).float()
        score = torch.zeros(maps.shape[0], device=maps.device)
        shape = (maps.shape[2], maps.shape[3])
        if shape not in masks_by_shape:
            masks_by_shape[shape] = [box_mask(b, shape, maps.device) for b in boxes]
        masks = masks_by_shape[shape]
        for k, mask in zip(wanted, masks, strict=True):
            score = score + float(weights[k]) * top_mean(maps[:, k], fraction, mask)
            if spatial and len(wanted) > 1:
                outside = ~mask
                score = score - 0.5 * float(weights[k]) * top_mean(maps[:, k], fraction, outside)
        if suppress > 0 and bool(rivals.any()):
            rival = maps[:, rivals.to(maps.device)].amax(dim=1)
            score = score - suppress * top_mean(rival, fraction)
        return score

    return objective
