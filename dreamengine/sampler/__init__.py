"""Plug & Play sampling maths: objectives and the PPGN step on a persistent latent.

The names below load on first use, so reading the configuration (``dreamengine config``)
does not import torch, scipy or soundfile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dreamengine.lazy import lazy_names

if TYPE_CHECKING:
    from dreamengine.sampler.config import SamplerConfig
    from dreamengine.sampler.objectives import (
        Objective,
        class_log_prob,
        regional_log_prob,
        regions,
        spatial_parts,
        target_vector,
    )
    from dreamengine.sampler.ppgn import PPGNSampler, StepResult

_HOMES = {
    "Objective": "objectives",
    "PPGNSampler": "ppgn",
    "SamplerConfig": "config",
    "StepResult": "ppgn",
    "class_log_prob": "objectives",
    "regional_log_prob": "objectives",
    "regions": "objectives",
    "spatial_parts": "objectives",
    "target_vector": "objectives",
}

__all__ = [
    "Objective",
    "PPGNSampler",
    "SamplerConfig",
    "StepResult",
    "class_log_prob",
    "regional_log_prob",
    "regions",
    "spatial_parts",
    "target_vector",
]


__getattr__ = lazy_names(__name__, _HOMES)
