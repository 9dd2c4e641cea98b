"""Building the stages from config: shipped models where they exist, seeded random ones if not."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from dreamengine.classifier import SoundCNN, SoundModel, load_sound_bundle
from dreamengine.dream.state import Dream, ImageModel, VisionModel
from dreamengine.engine.config import EngineConfig
from dreamengine.errors import DreamengineError
from dreamengine.models import ImagePrior
from dreamengine.models.eyes import Eyes
from dreamengine.models.imagenet_eye import ImageNetEye
from dreamengine.models.vision import VisionNet
from dreamengine.resources import priors_dir
from dreamengine.selection import ClassMap, load_class_map

SHIPPED_IMAGE_PRIOR = Path("image") / "prior.pt"
SHIPPED_SOUND_CLASSIFIER = Path("sound") / "classifier.pt"
SHIPPED_VISION = Path("vision") / "centernet.pt"
SHIPPED_VISION_HEAD = Path("vision") / "head.pt"  # instruments, fire, tools, emergency vehicles
SHIPPED_IMAGENET_EYE = Path("vision") / "efficientnet_lite0.pt"  # the second eye (ImageNet-1k)
IMAGENET_CLASSES = Path("vision") / "imagenet_classes.txt"  # its class names, in index order
SHIPPED_CLASS_MAP = Path("class_map.toml")  # sound labels → both eyes' classes
SHIPPED_CENTERNET_CLASS_MAP = Path("class_map_centernet.toml")  # → CenterNet's alone
SHIPPED_LATENT_CLASS_MAP = Path("class_map_latent.toml")  # → the emoji prior's labels
SHIPPED_IMAGENET_CLASS_MAP = Path("class_map_imagenet.toml")  # → ImageNet label groups
SHIPPED_IMAGENET_LABELS = Path("imagenet_labels.toml")


@dataclass
class Models:
    sound: SoundModel
    image: ImageModel  # the vision net (canvas dream) or the emoji prior (latent dream)
    class_map: ClassMap
    image_source: dict[str, object]  # where the image prior came from, for session files
    warnings: list[str] = field(default_factory=list)


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def load_models(config: EngineConfig, device: torch.device) -> Models:
    """The sound classifier, the image prior and the class map named by ``config.paths``."""
    warnings: list[str] = []
    sound = load_sound_model(config, warnings)
    image: ImageModel
    if config.dream.backend == "canvas":
        image, source = load_vision(config, device)
    else:
        image, source = load_image_prior(config, device, warnings)
    class_map = load_class_map(class_map_path(config, image), sound.config.labels, image.labels)
    check_class_names(config, sound.config.labels + tuple(image.labels))
    return Models(sound, image, class_map, source, warnings)


def class_map_path(config: EngineConfig, image: ImageModel) -> Path:
    """The configured class map, or the shipped one for the image model: both eyes, CenterNet
    alone (``paths.imagenet_eye = "none"``), a torchvision classifier, or the emoji prior."""
    if config.paths.class_map:
        return Path(config.paths.class_map)
    if config.dream.backend != "canvas":
        return priors_dir() / SHIPPED_LATENT_CLASS_MAP
    if config.dream.vision != "centernet":
        return priors_dir() / SHIPPED_IMAGENET_CLASS_MAP
    shipped = SHIPPED_CLASS_MAP if isinstance(image, Eyes) else SHIPPED_CENTERNET_CLASS_MAP
    return priors_dir() / shipped


def check_class_names(config: EngineConfig, known: tuple[str, ...]) -> None:
    """Every class named in ``selection`` weights, pins and mutes is a sound label or an
    image class (a typo would otherwise silently do nothing all night)."""
    sel = config.selection
    for key, names in (("weights", [w.partition(":")[0] for w in sel.weights]),
                       ("pins", list(sel.pins)), ("mutes", list(sel.mutes))):
        for name in names:
            if name not in known:
                raise DreamengineError(f"selection.{key} names unknown class {name!r}; known: "
                                       f"sound labels and the vision network's classes")


def load_sound_model(config: EngineConfig, warnings: list[str]) -> SoundModel:
    """The shipped (or configured) sound classifier; a seeded random one if none is shipped."""
    path = Path(config.paths.sound_classifier) if config.paths.sound_classifier else (
        priors_dir() / SHIPPED_SOUND_CLASSIFIER)
    if config.paths.sound_classifier or path.is_file():
        return checked_sound_model(load_sound_bundle(path), config, path)
    warnings.append("no trained sound classifier is shipped yet: using a seeded random one")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.dream.seed)
        return SoundCNN(config.classifier).eval()


def checked_sound_model(model: SoundModel, config: EngineConfig, path: Path) -> SoundModel:
    """``model``, if it was trained on the log-mel ``config.features`` computes; else an error
    naming the key (a classifier fed other features hears nothing it learned)."""
    if model.config.n_mels != config.features.n_mels:
        raise DreamengineError(f"features.n_mels is {config.features.n_mels} but the sound "
                               f"classifier {path} takes {model.config.n_mels} bands")
    trained = model.meta.get("mel")
    now = dataclasses.asdict(config.features)
    for key, value in (trained.items() if isinstance(trained, dict) else ()):
        if key in now and not math.isclose(float(now[key]), float(value)):
            raise DreamengineError(f"features.{key} is {now[key]} but the sound classifier {path} "
                                   f"was trained with {value}; set it back or train one for it")
    return model


def load_image_prior(config: EngineConfig, device: torch.device,
                     warnings: list[str]) -> tuple[ImagePrior, dict[str, object]]:
    """The image prior and a record of its source (path and SHA-256, or the random seed)."""
    path = Path(config.paths.image_prior) if config.paths.image_prior else (
        priors_dir() / SHIPPED_IMAGE_PRIOR)
    if config.paths.image_prior or path.is_file():
        digest = _sha256(path) if path.is_file() else None
        return ImagePrior.load(path, device), {"path": str(path), "sha256": digest}
    warnings.append("no trained image prior is shipped yet: using seeded random networks")
    prior = ImagePrior.random(config.prior, config.dream.seed).to(device)
    return prior, {"path": None, "random_seed": config.dream.seed}


def import_vision_backend(config: EngineConfig) -> None:
    """Import what ``config``'s vision network needs *before* any GL context exists: torchvision
    pulls in triton, whose bundled LLVM segfaults on import once Mesa's llvmpipe is loaded."""
    if config.dream.backend == "canvas" and config.dream.vision.startswith("torchvision:"):
        import dreamengine.models.torchvision_vision  # noqa: F401 - imported for the order


def load_vision(config: EngineConfig,
                device: torch.device) -> tuple[VisionModel, dict[str, object]]:
    """The vision network the canvas dream climbs, and a record of its source."""
    if config.dream.vision.startswith("torchvision:"):
        # imported here: torchvision pulls in torch._dynamo (and triton), which the default
        # network does not need (and which crashed beside PortAudio in one process here)
        from dreamengine.models.torchvision_vision import TorchvisionVision

        weights = Path(config.paths.vision_weights)
        labels = (Path(config.paths.vision_labels) if config.paths.vision_labels
                  else priors_dir() / SHIPPED_IMAGENET_LABELS)
        net: VisionModel = TorchvisionVision.from_spec(
            config.dream.vision, weights, labels, device)
        return net, {"backend": "canvas", "vision": config.dream.vision, "path": str(weights),
                     "sha256": _sha256(weights),
                     "labels": str(labels)}
    path = Path(config.paths.vision) if config.paths.vision else priors_dir() / SHIPPED_VISION
    head = vision_head_path(config)
    net = VisionNet.load(path, device, head=head)
    source: dict[str, object] = {
        "backend": "canvas", "vision": "centernet", "path": str(path), "sha256": _sha256(path),
        "head": None if head is None else str(head),
        "head_sha256": None if head is None else _sha256(head), "imagenet_eye": None}
    second = imagenet_eye_path(config)
    if second is None:
        return net, source
    eye = ImageNetEye.load(second, priors_dir() / IMAGENET_CLASSES, device)
    source.update(imagenet_eye=str(second), imagenet_eye_sha256=_sha256(second))
    return Eyes([("coco", net), ("imagenet", eye)]), source


def imagenet_eye_path(config: EngineConfig) -> Path | None:
    """The second eye's checkpoint: the configured file, the shipped one, or None."""
    return _optional(config.paths.imagenet_eye, SHIPPED_IMAGENET_EYE)


def vision_head_path(config: EngineConfig) -> Path | None:
    """The extra head's checkpoint: the configured file, the shipped one, or None."""
    return _optional(config.paths.vision_head, SHIPPED_VISION_HEAD)


def _optional(configured: str, shipped: Path) -> Path | None:
    """An optional network's file: ``"none"`` → None, a path → it, empty → the shipped file
    under ``priors/`` where there is one."""
    if configured == "none":
        return None
    if configured:
        return Path(configured)
    path = priors_dir() / shipped
    return path if path.is_file() else None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_dream(config: EngineConfig, models: Models, device: torch.device) -> Dream:
    """The dream of ``config.dream`` on the loaded image model."""
    return Dream(models.image, config.sampler, config.dream.seed, device, config.dream.canvas_px)
