"""Image prior networks: generator G, latent prior (denoising autoencoder on h), condition net C.

The vision network the canvas dream climbs (CenterNet and its extra head) lives here too, and
the training-only networks (discriminator D, encoder E, referee), so the recipes in priors/
import rather than copy them.

The names below load on first use, so reading the configuration (``dreamengine config``)
does not import torch, scipy or soundfile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dreamengine.lazy import lazy_names

if TYPE_CHECKING:
    from dreamengine.models.bundle import ImagePrior
    from dreamengine.models.centernet import CenterNet, CenterNetConfig
    from dreamengine.models.condition import ConditionNet
    from dreamengine.models.configs import (
        ConditionConfig,
        GeneratorConfig,
        ImagePriorConfig,
        LatentPriorConfig,
    )
    from dreamengine.models.discriminator import Discriminator, DiscriminatorConfig
    from dreamengine.models.encoder import Encoder, EncoderConfig
    from dreamengine.models.generator import Generator
    from dreamengine.models.latent_prior import LatentPrior
    from dreamengine.models.referee import RefereeConfig, RefereeNet

_HOMES = {
    "CenterNet": "centernet",
    "CenterNetConfig": "centernet",
    "ConditionConfig": "configs",
    "ConditionNet": "condition",
    "Discriminator": "discriminator",
    "DiscriminatorConfig": "discriminator",
    "Encoder": "encoder",
    "EncoderConfig": "encoder",
    "Generator": "generator",
    "GeneratorConfig": "configs",
    "ImagePrior": "bundle",
    "ImagePriorConfig": "configs",
    "LatentPrior": "latent_prior",
    "LatentPriorConfig": "configs",
    "RefereeConfig": "referee",
    "RefereeNet": "referee",
}

__all__ = [
    "CenterNet",
    "CenterNetConfig",
    "ConditionConfig",
    "ConditionNet",
    "Discriminator",
    "DiscriminatorConfig",
    "Encoder",
    "EncoderConfig",
    "Generator",
    "GeneratorConfig",
    "ImagePrior",
    "ImagePriorConfig",
    "LatentPrior",
    "LatentPriorConfig",
    "RefereeConfig",
    "RefereeNet",
]


__getattr__ = lazy_names(__name__, _HOMES)
