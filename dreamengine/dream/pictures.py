"""The keyframe picture a dream state shows: one function per parameterisation, shared by live
runs and ``replay`` so a replayed keyframe is bit-identical."""

from __future__ import annotations

import numpy as np
import torch

from dreamengine.models import ImagePrior
from dreamengine.sampler.canvas import canvas_image


@torch.no_grad()
def canvas_keyframe(h: torch.Tensor, side: int) -> np.ndarray:
    """The keyframe a canvas state ``[1, 3·side²]`` shows: ``[side, side, 3]`` uint8."""
    rgb = canvas_image(h.reshape(1, 3, side, side).float())[0]
    return (rgb * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


@torch.no_grad()
def image_of(prior: ImagePrior, h: torch.Tensor) -> np.ndarray:
    """The keyframe a latent ``[1, latent_dim]`` shows: ``[S, S, 3]`` uint8, row 0 = top.

    Live runs and ``replay`` both go through here, so a replayed keyframe is bit-identical.
    """
    image = prior.generator(h)[0].float().clamp(-1, 1)
    return ((image + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
