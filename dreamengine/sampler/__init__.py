"""Plug & Play sampling maths: objectives and the PPGN step on a persistent latent."""

from dreamengine.sampler.objectives import (
    Objective,
    class_log_prob,
    regional_log_prob,
    regions,
    spatial_parts,
    target_vector,
)
from dreamengine.sampler.ppgn import PPGNSampler, SamplerConfig, StepResult

__all__ = ["Objective", "PPGNSampler", "SamplerConfig", "StepResult", "class_log_prob",
           "regional_log_prob", "regions", "spatial_parts", "target_vector"]
