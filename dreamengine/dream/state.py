"""The dream: one persistent state stepped by the PPGN sampler toward the selected classes.

Two parameterisations share one interface (``h`` is always a flat ``[1, latent_dim]`` tensor;
the transports carry whatever :attr:`Dream.latent_shape` and :attr:`Dream.image_shape` say):

- **canvas** (the default): ``h`` is the picture itself in decorrelated colour, stepped on the
  photo-trained vision network's class heatmaps, and moved by the canvas's own zoom, rotation and
  drift before each keyframe's steps, so new detail is dreamed into the zoom;
- **latent**: the first design's emoji generator, latent prior and condition net.

State plus maths, no threads: the transports (and the offline loop) call :meth:`Dream.keyframe`
with a target: a fixed-order weight vector over :attr:`Dream.labels`, or a mapping of names.
A state that turns non-finite is reset to the last good one and reported once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

import numpy as np
import torch

from dreamengine.dream.pictures import canvas_keyframe, image_of
from dreamengine.models import ImagePrior
from dreamengine.models.eyes import Eye, Eyes
from dreamengine.models.imagenet_eye import ImageNetEye
from dreamengine.models.vision import VisionNet
from dreamengine.sampler import (
    Objective,
    PPGNSampler,
    SamplerConfig,
    class_log_prob,
    regional_log_prob,
    spatial_parts,
    target_vector,
)
from dreamengine.sampler.canvas import (
    View,
    canvas_step,
    coarse_side,
    enlarge,
    initial_canvas,
    move,
    renew,
    shrink,
)
from dreamengine.sampler.objectives import add, heatmap_objective, take_turns

if TYPE_CHECKING:  # importing torchvision pulls in torch._dynamo: only when asked for
    from dreamengine.models.torchvision_vision import TorchvisionVision

VisionModel = Union[VisionNet, "TorchvisionVision", ImageNetEye, Eyes]
ImageModel = Union[ImagePrior, VisionModel]  # noqa: UP007 - the alias above is a Union
Target = Union[Mapping[str, float], np.ndarray]  # noqa: UP007 - names, or [len(labels)] weights


@dataclass(frozen=True)
class Keyframe:
    image: np.ndarray  # [S, S, 3] uint8, row 0 = top
    latent: np.ndarray  # [latent_dim] float32, the state the image came from
    score: float  # the class objective at that image (0 when drifting)
    reset: bool  # True when this keyframe followed a NaN reset
    step: int = 0  # the dream's keyframe counter (seeds this keyframe's noise)
    dt: float = 0.0  # s of canvas motion applied before this keyframe's steps
    seed: int = 0  # the dream's seed when it made this keyframe
    renewed: bool = False  # the canvas's detail was erased first (the leading class changed)
    coarse: bool = False  # dreamed on the canvas at half size (the coarse phase)


NOISE, FRESH_LAYOUT = 0, 500_000_000  # offsets of a keyframe's random draws (see _keyframe_seed)


def view_for(params: SamplerConfig, dt: float) -> View:
    """The canvas motion of ``dt`` seconds at the sampler's rates."""
    return View(zoom=params.zoom_per_s ** dt, rotate=math.radians(params.rotate_deg_per_s) * dt)


class Dream:
    def __init__(self, prior: ImageModel, params: SamplerConfig, seed: int,
                 device: torch.device, canvas_px: int = 192) -> None:
        self.prior = prior
        self.params = params
        self.device = device
        self.canvas_px = canvas_px
        self.canvas = not isinstance(prior, ImagePrior)
        if not self.canvas:
            assert isinstance(prior, ImagePrior)
            self.sampler = PPGNSampler(prior.generator, prior.prior.score)
        elif canvas_px % 32 or canvas_px <= 0:
            raise ValueError(f"the canvas must be a positive multiple of 32 px, got {canvas_px}")
        self.resets = 0
        self.step = 0
        self.lead: str | None = None  # the class the canvas shows: the last settled lead
        self._challenger: tuple[str, float] | None = None  # another lead and how long (s)
        self.fresh_at = 0  # step of the last fresh start or renewal: the coarse phase's start
        self.reseed(seed)

    @property
    def key_size(self) -> int:
        """Side of the published keyframes (px)."""
        if self.canvas:
            return self.canvas_px
        assert isinstance(self.prior, ImagePrior)
        return self.prior.config.generator.size

    @property
    def labels(self) -> tuple[str, ...]:
        """The image classes, in the order of a target vector."""
        return tuple(self.prior.labels)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """Shape of a keyframe's image: ``(S, S, 3)`` uint8."""
        return (self.key_size, self.key_size, 3)

    @property
    def latent_shape(self) -> tuple[int]:
        """Shape of a keyframe's state (``Keyframe.latent``): flat float32."""
        return (self.latent_dim,)

    @property
    def latent_dim(self) -> int:
        """Length of the flat state ``h``."""
        if self.canvas:
            return 3 * self.canvas_px**2
        assert isinstance(self.prior, ImagePrior)
        return self.prior.config.generator.latent_dim

    def reseed(self, seed: int) -> None:
        """Start again from the fresh state of ``seed`` (and its noise stream)."""
        self.seed = seed
        self.step = 0
        self.fresh_at = 0
        self.noise = torch.Generator().manual_seed(seed + 1)
        if self.canvas:
            self.h = initial_canvas(self.canvas_px, seed).flatten(1).to(self.device)
        else:
            latent_dim = self.latent_dim
            self.h = PPGNSampler.initial_latent(latent_dim, seed, self.params.clip).to(
                self.device)
        self._last_good = self.h.clone()

    def reset(self) -> None:
        """Back to the current seed's first state."""
        self.reseed(self.seed)

    def continue_at(self, seed: int, step: int) -> None:
        """Take up the keyframe counter of ``seed`` at ``step`` without touching the state:
        each keyframe's randomness comes from these two alone, so a recording continues
        exactly (``replay``; a restarted dream process)."""
        self.seed, self.step = seed, step

    def back_to_last_good(self) -> None:
        """Drop the state a failed step left behind (the worker calls this)."""
        self.h = self._last_good.clone()

    def restore(self, h: torch.Tensor) -> None:
        """Continue from the state ``h`` ``[1, latent_dim]`` (a restart or a snapshot)."""
        self.h = h.reshape(1, -1).to(self.device).clone()
        self._last_good = self.h.clone()

    def weights(self, target: Target) -> torch.Tensor:
        """``target`` as ``[len(labels)]`` float32 weights; an unknown name raises."""
        if isinstance(target, Mapping):
            return target_vector(target, self.labels)
        if np.shape(target) != (len(self.labels),):
            raise ValueError(f"a target vector needs {len(self.labels)} weights, "
                             f"got shape {np.shape(target)}")
        return torch.as_tensor(np.asarray(target), dtype=torch.float32)

    def objective(self, target: Target) -> Objective | None:
        """The class term for ``target``: a weighted mixture, or with ``spatial`` one region
        of the canvas per class; the terms of several vision networks added; ``None`` (drift
        on the prior) for an empty target."""
        terms, _ = self._terms(self.weights(target))
        return add(*terms) if len(terms) > 1 else terms[0] if terms else None

    def _terms(self, weights: torch.Tensor) -> tuple[list[Objective], list[float]]:
        """One class term per vision network the target needs, and each one's share of the
        target's weight (the emoji prior: its one condition net)."""
        if not bool((weights != 0).any()):
            return [], []
        weights = weights.to(self.device)
        if isinstance(self.prior, ImagePrior):
            return [self._latent_objective(weights)], [1.0]
        parts = self.prior.parts(weights) if isinstance(self.prior, Eyes) else [
            (self.prior, weights)]
        return ([self._eye_objective(eye, w) for eye, w in parts],
                [float(w.clamp_min(0).sum()) for _, w in parts])

    def _eye_objective(self, eye: Eye, weights: torch.Tensor) -> Objective:
        return heatmap_objective(eye.scorer(weights), weights, self.params.spatial,
                                 fraction=eye.top_fraction, suppress=eye.suppress,
                                 rival_classes=eye.n_detector)

    def _latent_objective(self, weights: torch.Tensor) -> Objective:
        assert isinstance(self.prior, ImagePrior)
        condition = self.prior.condition
        if self.params.spatial and int((weights > 0).sum()) > 1:
            size = min(condition.config.input_size, self.prior.config.generator.size)
            return regional_log_prob(condition, spatial_parts(weights), size)
        return class_log_prob(condition, weights)

    def keyframe(self, target: Target, dt: float = 0.0, renewed: bool | None = None,
                 coarse: bool | None = None) -> Keyframe:
        """Move the canvas by ``dt`` seconds of its motion, then run ``steps_per_keyframe``
        steps toward ``target`` (empty: drift on the prior). When another class has led for
        ``params.renew_after_s`` (silences aside) the canvas first loses ``params.renew`` of its
        detail; ``renewed`` forces that choice (``replay`` passes what was recorded). For
        ``params.coarse_keyframes`` keyframes after a fresh start or a renewal the steps run on
        the canvas at half size (coarse to fine); ``coarse`` forces that choice."""
        weights = self.weights(target)
        terms = self._terms(weights)
        step = self.step
        lead = self.labels[int(weights.argmax())] if bool((weights != 0).any()) else None
        shown = (self.lead, self._challenger, self.fresh_at)  # restored with the canvas on reset
        if renewed is None:
            renewed = self.canvas and self._settled_change(lead, dt)
        elif renewed and lead is not None:
            self.lead, self._challenger = lead, None
        if renewed:
            self.fresh_at = step
            side = self.canvas_px
            fresh = initial_canvas(side, self._keyframe_seed(FRESH_LAYOUT))
            self.h = renew(self.h.view(1, 3, side, side), self.params.renew,
                           fresh.to(self.device)).flatten(1)
        if coarse is None:
            coarse = self.canvas and step - self.fresh_at < self.params.coarse_keyframes
        score = (self._advance(terms, dt, coarse) if self.canvas
                 else self._advance_latent(terms[0][0] if terms[0] else None))
        self.step += 1
        image = self.image() if torch.isfinite(self.h).all() else None
        reset = image is None or not bool(np.isfinite(score))
        if reset:
            self.resets += 1
            self.h = self._last_good.clone()
            self.lead, self._challenger, self.fresh_at = shown  # a renewal lost is done again
            image, score = self.image(), 0.0
        else:
            self._last_good = self.h.clone()
        assert image is not None
        return Keyframe(image, self.h[0].float().cpu().numpy(), score, reset, step, dt,
                        self.seed, renewed, coarse)

    def _settled_change(self, lead: str | None, dt: float) -> bool:
        """Whether the canvas is renewed now: ``lead`` differs from the class it shows and has
        led for ``params.renew_after_s`` seconds of keyframes (drift neither counts nor
        resets: a silence in between does not hide a change of class). A lead that flickers
        between classes — two sounds at about the same strength — erases nothing."""
        if lead is None:
            return False
        if self.lead is None or lead == self.lead:  # the first class, or the same one
            self.lead, self._challenger = lead, None
            return False
        held = self._challenger[1] if self._challenger and self._challenger[0] == lead else 0.0
        held += dt
        if held + 1e-9 < self.params.renew_after_s:
            self._challenger = (lead, held)
            return False
        self.lead, self._challenger = lead, None
        return True

    def _advance(self, terms: tuple[list[Objective], list[float]], dt: float,
                 coarse: bool) -> float:
        side = self.canvas_px
        z = move(self.h.view(1, 3, side, side), view_for(self.params, dt))
        if coarse:  # large shapes first: the steps see the canvas at half size
            z = shrink(z, coarse_side(side))
        g = torch.Generator().manual_seed(self._keyframe_seed(NOISE))
        score = 0.0
        steps = self.params.steps_per_keyframe
        for i in range(steps):
            objective = (take_turns(*terms, self.step * steps + i) if self.params.alternate_eyes
                         else add(*terms[0]) if terms[0] else None)
            result = canvas_step(z, objective, self.params, g)
            z, score = result.z, float(result.score[0])
        self.h = (enlarge(z, side) if coarse else z).flatten(1)
        return score

    def _keyframe_seed(self, purpose: int) -> int:
        """The seed of one random draw of this keyframe: each keyframe's randomness comes from
        the dream's seed and counter alone, so a recording can re-simulate it."""
        return self.seed * 1_000_003 + self.step + purpose

    def _advance_latent(self, objective: Objective | None) -> float:
        score = 0.0
        for _ in range(self.params.steps_per_keyframe):
            result = self.sampler.step(self.h, objective, self.params, self.noise)
            self.h, score = result.h, float(result.score[0])
        return score

    def image(self) -> np.ndarray:
        """The keyframe the current state shows."""
        if self.canvas:
            return canvas_keyframe(self.h, self.canvas_px)
        assert isinstance(self.prior, ImagePrior)
        return image_of(self.prior, self.h)
