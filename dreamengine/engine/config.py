"""The engine's config: one frozen dataclass per component, overridable from TOML and ``--set``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dreamengine.audio import AudioConfig
from dreamengine.classifier import ClassifierConfig
from dreamengine.config import apply_overrides, load_toml
from dreamengine.controls.bus import check_ranges
from dreamengine.errors import DreamengineError
from dreamengine.features import DynamicsConfig, MelConfig
from dreamengine.models import ImagePriorConfig
from dreamengine.recording import RecordingConfig
from dreamengine.render import RenderConfig
from dreamengine.sampler import SamplerConfig
from dreamengine.selection import SelectionConfig, class_weights


@dataclass(frozen=True)
class DreamConfig:
    """How the dream is driven."""

    keyframes_per_s: float = 30.0  # keyframes published per second of (render) time
    seed: int = 0  # seed of the initial latent and the sampler noise
    device: str = "auto"  # "auto" (CUDA when present), "cpu" or "cuda"
    torch_threads: int = 1  # CPU threads for torch (the other core renders and hears)
    worker: str = "process"  # where `live` runs the sampler: "process" (own GIL) or "thread"
    backend: str = "canvas"  # "canvas": the picture is the latent, climbed on the photo-trained
    #                          vision net; "latent": the first design's 64 px emoji generator
    vision: str = "centernet"  # the canvas dream's network: "centernet" (shipped, COCO) or
    #                           "torchvision:ARCH" with paths.vision_weights (ImageNet)
    canvas_px: int = 192  # px, side of the dreamed canvas (a multiple of 32; 256-384 on fast
    #                       machines, 512 and more on a GPU; `sample` has its own --size)


@dataclass(frozen=True)
class PathsConfig:
    """Where models and tables come from; empty means the shipped default."""

    image_prior: str = ""  # image prior bundle (.pt), for dream.backend = "latent"
    vision: str = ""  # CenterNet checkpoint (.pt), for dream.backend = "canvas"
    vision_head: str = ""  # extra heatmap head (.pt) on CenterNet; "none": the detector alone
    imagenet_eye: str = ""  # the second eye beside CenterNet: an EfficientNet-Lite checkpoint
    #                         (.pt; default the shipped ImageNet one); "none": CenterNet alone
    vision_weights: str = ""  # state dict for dream.vision = "torchvision:ARCH" (yours)
    vision_labels: str = ""  # label → ImageNet indices TOML (default priors/imagenet_labels.toml)
    sound_classifier: str = ""  # sound classifier checkpoint (.pt)
    class_map: str = ""  # sound → image class table (.toml)


@dataclass(frozen=True)
class EngineConfig:
    audio: AudioConfig = field(default_factory=AudioConfig)
    features: MelConfig = field(default_factory=MelConfig)
    dynamics: DynamicsConfig = field(default_factory=DynamicsConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    prior: ImagePriorConfig = field(default_factory=ImagePriorConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    recording: RecordingConfig = field(default_factory=RecordingConfig)
    dream: DreamConfig = field(default_factory=DreamConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)

    def validate(self) -> EngineConfig:
        """Cross-component checks; returns self so calls chain."""
        if self.audio.sr != self.features.sr:
            raise DreamengineError(
                f"audio.sr ({self.audio.sr}) and features.sr ({self.features.sr}) must match"
            )
        if self.features.n_mels != self.classifier.n_mels:
            raise DreamengineError(
                f"features.n_mels ({self.features.n_mels}) and classifier.n_mels "
                f"({self.classifier.n_mels}) must match"
            )
        if self.dream.keyframes_per_s <= 0:
            raise DreamengineError("dream.keyframes_per_s must be positive")
        if self.dream.worker not in ("process", "thread"):
            raise DreamengineError(
                f"dream.worker must be process or thread, got {self.dream.worker!r}")
        if self.dream.backend not in ("canvas", "latent"):
            raise DreamengineError(
                f"dream.backend must be canvas or latent, got {self.dream.backend!r}")
        if self.dream.vision != "centernet" and not self.dream.vision.startswith("torchvision:"):
            raise DreamengineError(f"dream.vision must be centernet or torchvision:ARCH, got "
                                   f"{self.dream.vision!r}")
        if self.dream.vision.startswith("torchvision:") and not self.paths.vision_weights:
            raise DreamengineError(f"dream.vision = {self.dream.vision!r} needs a weights file: "
                                   "--weights FILE (paths.vision_weights); none is downloaded")
        if self.render.canvas_px < 8:
            raise DreamengineError(
                f"render.canvas_px must be at least 8 px, got {self.render.canvas_px}")
        if self.dream.canvas_px < 32 or self.dream.canvas_px % 32:
            raise DreamengineError(
                f"dream.canvas_px must be a positive multiple of 32, got {self.dream.canvas_px}")
        if self.sampler.steps_per_keyframe < 1:
            raise DreamengineError("sampler.steps_per_keyframe must be at least 1")
        if self.render.upscale not in ("catmull-rom", "b-spline"):
            raise DreamengineError(
                f"render.upscale must be catmull-rom or b-spline, got {self.render.upscale!r}")
        if self.selection.temperature <= 0:
            raise DreamengineError("selection.temperature must be positive")
        class_weights(self.selection.weights)  # a malformed item raises, naming it
        if self.features.fmax > self.features.sr / 2:
            raise DreamengineError("features.fmax must not exceed features.sr / 2")
        self._check_counts()
        return self

    def _check_counts(self) -> None:
        """Counts and periods with no live control; a bad one would hang or crash a run later
        (no queue slot for a frame, a zlib level that fails every frame)."""
        for key, value, low, high in (
                ("recording.png_level", self.recording.png_level, 0, 9),
                ("recording.encoder_threads", self.recording.encoder_threads, 1, 64),
                ("recording.max_pending", self.recording.max_pending, 1, 4096),
                ("recording.snapshot_s", self.recording.snapshot_s, 0.1, 3600.0),
                ("classifier.hop_frames", self.classifier.hop_frames, 1, 100),
                ("dream.torch_threads", self.dream.torch_threads, 1, 256),
                ("dream.seed", self.dream.seed, 0, 2**31 - 1),
                ("dream.canvas_px", self.dream.canvas_px, 32, 4096),
                ("dream.keyframes_per_s", self.dream.keyframes_per_s, 0.01, 1000.0),
                ("render.canvas_px", self.render.canvas_px, 8, 8192)):
            if not low <= value <= high:
                raise DreamengineError(f"{key} must be within {low}..{high}, got {value}")


def load_config(path: Path | None = None, overrides: dict[str, Any] | None = None) -> EngineConfig:
    """Defaults, then the TOML file at ``path``, then dotted ``overrides`` (CLI ``--set``)."""
    config = EngineConfig()
    if path is not None:
        config = apply_overrides(config, load_toml(path))
    if overrides:
        config = apply_overrides(config, overrides)
    try:
        config.validate()
    except ValueError as exc:
        raise DreamengineError(f"invalid config: {exc}") from None
    check_ranges(config)
    return config
