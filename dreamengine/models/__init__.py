"""Image prior networks: generator G, latent prior (denoising autoencoder on h), condition net C.

Training-only networks live here too so the recipes in priors/image import rather than copy
them: the discriminator D, the encoder E (inverts G to find codes of real images) and the
referee classifier (a second opinion on samples, shipped as its own small checkpoint).
"""

from dreamengine.models.bundle import ImagePrior, ImagePriorConfig
from dreamengine.models.centernet import CenterNet, CenterNetConfig
from dreamengine.models.condition import ConditionConfig, ConditionNet
from dreamengine.models.discriminator import Discriminator, DiscriminatorConfig
from dreamengine.models.encoder import Encoder, EncoderConfig
from dreamengine.models.generator import Generator, GeneratorConfig
from dreamengine.models.latent_prior import LatentPrior, LatentPriorConfig
from dreamengine.models.referee import RefereeConfig, RefereeNet

__all__ = ["CenterNet", "CenterNetConfig", "ConditionConfig", "ConditionNet", "Discriminator",
           "DiscriminatorConfig", "Encoder", "EncoderConfig", "Generator", "GeneratorConfig",
           "ImagePrior", "ImagePriorConfig", "LatentPrior", "LatentPriorConfig", "RefereeConfig",
           "RefereeNet"]
