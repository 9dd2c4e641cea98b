"""The sampler's step sizes and canvas motion (no torch: ``dreamengine config`` reads it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SamplerConfig:
    """Step sizes; every field can change between steps."""

    eps1: float = 0.1  # weight of the prior term (latent: R(h) − h; canvas: blur(z) − z)
    eps2: float = 1.0  # weight of the class term
    eps3: float = 0.02  # standard deviation of the added noise (latent units)
    lr: float = 0.1  # the class term's change per step (latent: mean |Δh|; canvas: RMS Δz)
    steps_per_keyframe: int = 1  # PPGN steps between published keyframes
    clip: float = 3.0  # |h| never exceeds this (latent units)
    spatial: bool = False  # give each selected class its own region of the canvas (up to 4)
    alternate_eyes: bool = True  # a target on several vision networks: each step climbs one
    #                     of them, in turn by weight (the cost of one); False: all in each step
    # canvas dream only: how the canvas falls into itself between keyframes
    zoom_per_s: float = 1.04  # canvas scale per second; > 1 zooms in (as render.zoom_per_s)
    rotate_deg_per_s: float = 1.0  # degrees per second, counter-clockwise
    view_px: int = 0  # px, the size the vision network sees the canvas at (multiple of 32, at
    #                   most the canvas; 0: the whole canvas; smaller is cheaper but was judged
    #                   less recognisable)
    coarse_keyframes: int = 0  # after a fresh start or a change of class, keyframes dreamed on
    #                     the canvas at half size first (coarse to fine: large shapes first;
    #                     judged blind no better than none, so off by default)
    renew: float = 0.6  # share of the canvas's detail erased when the leading class changes
    renew_after_s: float = 0.5  # s a new leading class must lead (silences aside) before the
    #                     canvas is renewed for it: a lead that flickers between two classes
    #                     erases nothing
