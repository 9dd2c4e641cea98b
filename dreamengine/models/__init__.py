"""Image prior networks: generator G, latent prior (denoising autoencoder on h), condition net C."""

from dreamengine.models.bundle import ImagePrior, ImagePriorConfig
from dreamengine.models.condition import ConditionConfig, ConditionNet
from dreamengine.models.generator import Generator, GeneratorConfig
from dreamengine.models.latent_prior import LatentPrior, LatentPriorConfig

__all__ = ["ConditionConfig", "ConditionNet", "Generator", "GeneratorConfig", "ImagePrior",
           "ImagePriorConfig", "LatentPrior", "LatentPriorConfig"]
