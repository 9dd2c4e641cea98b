"""The canvas as the latent: PPGN steps taken directly on the picture (second dream design).

The persistent state ``z`` is the canvas itself, ``[1, 3, S, S]`` float32 in a decorrelated
colour space (channel 0 ≈ luminance, 1–2 ≈ opponent colours); :func:`canvas_image` maps it to
RGB in 0..1. One step, after PPGN (Nguyen et al., 2017, Eq. 5) with ``h`` the canvas:

    z ← z + ε1·(blur(z) − z) + ε2·lr·P(g) / rms(P(g)) + ε3·N(0, 1)

where ``g`` is the gradient of the class objective with respect to ``z`` through the network's
*view* of the canvas — the picture resampled (antialiased) to ``view_px``, then randomly shifted,
scaled and rotated (transformation robustness) — and ``P`` the ``1/f^α`` Fourier
preconditioner, so that ``lr`` is the RMS change the class term makes per step
whatever the network's gradient scale (a view smaller than the canvas is cheaper and draws
larger, smoother objects, but was judged less recognisable, so the default is the whole
canvas). Afterwards each colour channel is
renormalised to a fixed spread about its mean, which keeps full colour and contrast (without it
the canvas greys out).

:func:`move` applies the zoom, rotation and drift the canvas falls into between keyframes. Maths
only: no I/O, threads or display here.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from dreamengine.sampler.objectives import Objective
from dreamengine.sampler.ppgn import SamplerConfig

# RGB = COLOUR @ z per pixel: the square root of a natural-image colour covariance (its columns
# are luminance and two opponent axes), scaled so the luminance column has unit norm.
_COLOUR = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
COLOUR = _COLOUR / _COLOUR[:, 0].norm()
SPREAD = (1.2, 1.5, 1.5)  # std of each decorrelated channel after renormalisation


@dataclass(frozen=True)
class View:
    """How the canvas moves between two keyframes (amounts, not rates)."""

    zoom: float = 1.0  # scale; > 1 falls inward
    rotate: float = 0.0  # radians, counter-clockwise
    drift: tuple[float, float] = (0.0, 0.0)  # canvas fractions, rightward and downward

    @property
    def still(self) -> bool:
        return self.zoom == 1.0 and self.rotate == 0.0 and self.drift == (0.0, 0.0)


def canvas_image(z: torch.Tensor) -> torch.Tensor:
    """Decorrelated canvas ``[B, 3, S, S]`` → RGB ``[B, 3, S, S]`` in 0..1 (differentiable)."""
    rgb = torch.einsum("ij,bjhw->bihw", COLOUR.to(z.device, z.dtype), z)
    return torch.sigmoid(rgb)


def initial_canvas(side: int, seed: int) -> torch.Tensor:
    """A fresh canvas ``[1, 3, side, side]``: seeded 1/f noise at the working spread."""
    g = torch.Generator().manual_seed(seed)
    white = torch.randn(1, 3, side, side, generator=g)
    return renormalise(precondition(white, alpha=1.0))


def frequencies(side: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Radial spatial frequency ``[side, side // 2 + 1]`` of ``rfft2`` bins, in cycles per
    canvas (0 at DC)."""
    fy = torch.fft.fftfreq(side, device=device) * side
    fx = torch.fft.rfftfreq(side, device=device) * side
    return torch.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)


@functools.lru_cache(maxsize=8)
def _spectral_scale(side: int, alpha: float, device: torch.device) -> torch.Tensor:
    """``1 / max(f, 1)^α`` per ``rfft2`` bin; the same for every step, so made once."""
    return frequencies(side, device).clamp_min(1.0).pow(-alpha)


def precondition(g: torch.Tensor, alpha: float) -> torch.Tensor:
    """Scale each spatial frequency ``f`` of ``g`` ``[B, C, S, S]`` by ``1 / max(f, 1)^α``:
    coarse structure moves first, fine detail follows (the 1/f prior of natural images)."""
    scale = _spectral_scale(g.shape[-1], alpha, g.device)
    return torch.fft.irfft2(torch.fft.rfft2(g) * scale, s=g.shape[-2:])


def renormalise(z: torch.Tensor) -> torch.Tensor:
    """Each channel keeps its mean and takes the fixed :data:`SPREAD` as its deviation."""
    mean = z.mean(dim=(-2, -1), keepdim=True)
    std = z.std(dim=(-2, -1), keepdim=True).clamp_min(1e-6)
    spread = torch.tensor(SPREAD, device=z.device, dtype=z.dtype).view(1, 3, 1, 1)
    return (mean.clamp(-1.0, 1.0) + (z - mean) / std * spread)


def blur(z: torch.Tensor) -> torch.Tensor:
    """A 3×3 binomial blur per channel (reflect-padded): the ε1 smoothness prior's target."""
    k = torch.tensor([1.0, 2.0, 1.0], device=z.device, dtype=z.dtype)
    kernel = (k[:, None] * k[None, :] / 16).expand(z.shape[1], 1, 3, 3)
    return F.conv2d(F.pad(z, (1, 1, 1, 1), mode="reflect"), kernel, groups=z.shape[1])


def affine(z: torch.Tensor, zoom: float, rotate: float, shift: tuple[float, float],
           mode: str = "bicubic") -> torch.Tensor:
    """Resample ``z`` ``[B, C, S, S]`` zoomed by ``zoom`` about the centre, rotated by
    ``rotate`` radians and moved by ``shift`` (canvas fractions, right and down), with the same
    sampling matrix as ``shaders/feedback.frag``; edges reflect. Differentiable."""
    c, s = math.cos(rotate), math.sin(rotate)
    theta = torch.tensor([[c / zoom, s / zoom, -2.0 * shift[0]],
                          [-s / zoom, c / zoom, -2.0 * shift[1]]],
                         dtype=z.dtype, device=z.device)[None].expand(z.shape[0], 2, 3)
    grid = F.affine_grid(theta, list(z.shape), align_corners=False)
    return F.grid_sample(z, grid, mode=mode, padding_mode="reflection", align_corners=False)


def move(z: torch.Tensor, view: View) -> torch.Tensor:
    """The canvas after ``view``'s zoom, rotation and drift (what the screen's feedback pass
    does to the shown canvas). Bicubic resampling, so repeated small moves blur little."""
    if view.still:
        return z
    return affine(z, view.zoom, view.rotate, view.drift)


def renew(z: torch.Tensor, amount: float, fresh: torch.Tensor | None = None,
          grain: int = 24) -> torch.Tensor:
    """Erase ``amount`` (0..1) of the canvas: blend it toward its own coarse version (area-
    averaged to ``grain``² and smoothly enlarged) mixed half and half with ``fresh`` (a new
    canvas, e.g. :func:`initial_canvas`), then renormalise. A new class then grows on the old
    picture's colours, with a new layout, instead of in the old objects' shapes."""
    if amount <= 0:
        return z
    side = z.shape[-1]
    coarse = F.interpolate(F.interpolate(z, size=(grain, grain), mode="area"), size=(side, side),
                           mode="bicubic", align_corners=False)
    if fresh is not None:
        coarse = 0.5 * coarse + 0.5 * fresh
    return renormalise(torch.lerp(z, coarse, min(amount, 1.0)))


def coarse_side(side: int) -> int:
    """The canvas side of the coarse phase: half of ``side``, rounded down to a multiple of 32
    (the network's input step), at least 32."""
    return max(32, side // 2 // 32 * 32)


def shrink(z: torch.Tensor, side: int) -> torch.Tensor:
    """``z`` ``[B, C, S, S]`` area-averaged to ``side``² (2×2 means when ``S = 2·side``)."""
    return F.interpolate(z, size=(side, side), mode="area")


def enlarge(small: torch.Tensor, side: int) -> torch.Tensor:
    """``small`` ``[B, C, s, s]`` enlarged smoothly to ``side``², plus the nearest-neighbour
    enlargement of what the smooth one loses, so that :func:`shrink` gives ``small`` back
    exactly when ``side = 2·s``: a canvas dreamed coarse for many keyframes does not blur."""
    smooth = F.interpolate(small, size=(side, side), mode="bicubic", align_corners=False)
    lost = small - shrink(smooth, small.shape[-1])
    return smooth + F.interpolate(lost, size=(side, side), mode="nearest")


@dataclass(frozen=True)
class Jitter:
    """Transformation robustness: the objective sees a randomly moved copy each step."""

    shift_px: int = 8  # largest shift, px at the network's view size
    scale: float = 0.08  # largest relative zoom in or out
    rotate_deg: float = 6.0  # largest rotation, degrees


def jittered(image: torch.Tensor, jitter: Jitter, g: torch.Generator) -> torch.Tensor:
    """A random shift, zoom and rotation of ``image`` ``[B, 3, S, S]`` (differentiable)."""
    u = torch.rand(4, generator=g) * 2 - 1
    side = image.shape[-1]
    shift = (float(u[0]) * jitter.shift_px / side, float(u[1]) * jitter.shift_px / side)
    zoom = 1.0 + float(u[2]) * jitter.scale
    rotate = math.radians(float(u[3]) * jitter.rotate_deg)
    return affine(image, zoom, rotate, shift, mode="bilinear")


@dataclass(frozen=True)
class CanvasStep:
    z: torch.Tensor  # [1, 3, S, S] the updated canvas
    score: torch.Tensor  # [1] the objective on the jittered image before the update


def network_view(image: torch.Tensor, view_px: int) -> torch.Tensor:
    """``image`` ``[B, 3, S, S]`` as the network sees it: ``view_px`` square (rounded to a
    multiple of 32, at least 32, at most ``S``), antialiased; unchanged at its own size or
    when ``view_px`` is 0 (the whole canvas)."""
    if view_px <= 0:
        return image
    side = max(32, min(round(view_px / 32) * 32, image.shape[-1]))
    if image.shape[-1] == side:
        return image
    return F.interpolate(image, size=(side, side), mode="bilinear", align_corners=False,
                         antialias=True)


def canvas_step(z: torch.Tensor, objective: Objective | None, params: SamplerConfig,
                g: torch.Generator, jitter: Jitter = Jitter(), alpha: float = 1.25) -> CanvasStep:
    """One PPGN step on the canvas ``z`` (see the module docstring); ``objective=None`` lets
    the canvas drift on the prior and noise alone. ``objective`` takes RGB in 0..1 at
    ``params.view_px``."""
    score = torch.zeros(z.shape[0], device=z.device)
    delta = torch.zeros_like(z)
    if objective is not None and params.eps2 > 0:
        z_in = z.detach().requires_grad_(True)
        with torch.enable_grad():
            view = network_view(canvas_image(z_in), params.view_px)
            score = objective(jittered(view, jitter, g))
            (grad,) = torch.autograd.grad(score.sum(), z_in)
        step = precondition(grad, alpha)
        rms = step.pow(2).mean().sqrt().clamp_min(1e-12)
        delta = params.eps2 * params.lr * step / rms
    with torch.no_grad():
        z = z.detach()
        if params.eps1 > 0:
            delta = delta + params.eps1 * (blur(z) - z)
        if params.eps3 > 0:
            delta = delta + params.eps3 * torch.randn(z.shape, generator=g).to(z.device)
        return CanvasStep(renormalise(z + delta), score.detach())
