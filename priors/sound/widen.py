"""Widen a trained sound CNN without changing what it computes (Net2WiderNet, Chen et al. 2016).

Every conv block's output channels grow from ``c`` to ``c'``: the first ``c`` filters are the old
ones, each new filter copies a randomly chosen old one (with its batch-norm parameters and
statistics), and the next layer divides the incoming weights of each copied channel by the number
of its copies. ReLU, max-pool and the frequency-mean / time-max pooling act per channel, so the
wider net gives the same logits in eval mode; a little noise on the copies (``noise``, relative to
each weight tensor's spread) lets training pull them apart.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from dreamengine.classifier import SoundCNN


def channel_map(old: int, new: int, rng: torch.Generator) -> torch.Tensor:
    """``[new]`` source channel of each new channel: itself for the first ``old``, then random."""
    if new < old:
        raise ValueError(f"cannot widen {old} channels to {new}")
    extra = torch.randint(old, (new - old,), generator=rng)
    return torch.cat([torch.arange(old), extra])


START_NOISE = 0.01  # the jitter with which ``train.py --init`` widens a narrower net


def widened_to(model: SoundCNN, width: int, noise: float = 0.0, seed: int = 0) -> SoundCNN:
    """A new net of ``width`` channels per block filled from ``model`` (see ``widened``)."""
    wide = SoundCNN(dataclasses.replace(model.config, width=width))
    return widened(model, wide, noise=noise, seed=seed)


def widened(model: SoundCNN, wide: SoundCNN, noise: float = 0.0, seed: int = 0) -> SoundCNN:
    """Fill ``wide`` (same architecture, larger ``width``) from ``model``; returns ``wide``."""
    rng = torch.Generator().manual_seed(seed)
    wide.norm.load_state_dict(model.norm.state_dict())
    source: torch.Tensor | None = None  # the previous block's channel map
    with torch.no_grad():
        for old_block, new_block in zip(model.features, wide.features, strict=True):
            old_conv, new_conv = old_block[0], new_block[0]
            mapping = channel_map(old_conv.out_channels, new_conv.out_channels, rng)
            weight = old_conv.weight[mapping]
            if source is not None:
                weight = weight[:, source] / _copies(source)[None, :, None, None]
            new_conv.weight.copy_(_jittered(weight, old_conv.out_channels, noise, rng))
            _copy_norm(old_block[1], new_block[1], mapping)
            source = mapping
        assert source is not None
        wide.head.weight.copy_(model.head.weight[:, source] / _copies(source)[None, :])
        wide.head.bias.copy_(model.head.bias)
    return wide


def _copies(mapping: torch.Tensor) -> torch.Tensor:
    """``[len(mapping)]`` how many new channels share each new channel's source."""
    return torch.bincount(mapping)[mapping].float()


def _jittered(weight: torch.Tensor, n_old: int, noise: float,
              rng: torch.Generator) -> torch.Tensor:
    """Noise (``noise`` × the weights' std) on the new output filters ``n_old:`` only."""
    out = weight.clone()
    if noise > 0:
        extra = out[n_old:]
        extra += noise * weight.std() * torch.randn(extra.shape, generator=rng)
    return out


def _copy_norm(old: nn.BatchNorm2d, new: nn.BatchNorm2d, mapping: torch.Tensor) -> None:
    for name in ("weight", "bias", "running_mean", "running_var"):
        getattr(new, name).copy_(getattr(old, name)[mapping])
