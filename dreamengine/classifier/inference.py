"""An inference-only copy of the sound CNN that costs about half as much per hop on a CPU.

The streaming classifier runs the whole ``[1, 1, 64, 64]`` window through the CNN every hop, one
window at a time. At that size PyTorch's default CPU path takes its generic convolution and an
index-keeping max-pool (measured: together over 80 % of the time). This copy folds each batch
norm into the convolution before it (exact up to float rounding) and, where oneDNN (MKL-DNN) is
available, keeps the activations in its blocked layout from the first convolution to the last
pool, converting once in and once out. The logits match the training module to about 1e-5.
An ensemble's copy runs each member's in turn and averages their logits.
"""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from dreamengine.classifier.ensemble import SoundEnsemble, SoundModel
from dreamengine.classifier.model import SoundCNN


def norm_affine(norm: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """``[C]`` scale and shift of an eval-mode batch norm: ``y = x * scale + shift``."""
    if norm.running_mean is None or norm.running_var is None:
        raise ValueError("a batch norm without running statistics cannot be folded")
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    return scale.detach(), (norm.bias - norm.running_mean * scale).detach()


def folded(conv: nn.Conv2d, norm: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight ``[out, in, 3, 3]`` and bias ``[out]`` of ``conv`` followed by eval-mode ``norm``."""
    scale, shift = norm_affine(norm)
    weight = conv.weight.detach() * scale[:, None, None, None]
    bias = shift if conv.bias is None else shift + conv.bias.detach() * scale
    return weight.clone(), bias.clone()


class InferenceCNN:
    """``[1, 1, n_mels, T]`` log-mel → ``[1, n_labels]`` logits, as ``SoundCNN`` in eval mode.

    A snapshot of ``model``'s weights (the model is left untouched): build a new one after the
    weights change.
    """

    def __init__(self, model: SoundCNN, device: torch.device) -> None:
        scale, shift = norm_affine(model.norm)  # the input's: one affine map, before the padding
        self.in_scale, self.in_shift = scale.to(device), shift.to(device)
        blocks = [cast(nn.Sequential, block) for block in model.features]
        self.layers = [folded(cast(nn.Conv2d, b[0]), cast(nn.BatchNorm2d, b[1])) for b in blocks]
        self.use_mkldnn = device.type == "cpu" and torch.backends.mkldnn.is_available()
        if self.use_mkldnn:  # weights reordered once, here
            self.layers = [(w.to_mkldnn(), b) for w, b in self.layers]
        else:
            self.layers = [(w.to(device), b.to(device)) for w, b in self.layers]
        self.head_weight = model.head.weight.detach().clone().to(device)
        self.head_bias = model.head.bias.detach().clone().to(device)

    @torch.inference_mode()
    def __call__(self, mel: torch.Tensor) -> torch.Tensor:
        x = mel * self.in_scale + self.in_shift
        if self.use_mkldnn:
            x = x.to_mkldnn()
            for weight, bias in self.layers:
                x = torch.mkldnn_convolution(x, weight, bias, (1, 1), (1, 1), (1, 1), 1)
                x = F.max_pool2d(x.relu_(), 2)
            x = x.to_dense()
        else:
            for weight, bias in self.layers:
                x = F.max_pool2d(F.conv2d(x, weight, bias, padding=1).relu_(), 2)
        return F.linear(x.mean(dim=2).amax(dim=2), self.head_weight, self.head_bias)


class InferenceEnsemble:
    """``[1, 1, n_mels, T]`` → ``[1, n_labels]``: the mean of the members' :class:`InferenceCNN`
    logits, as ``SoundEnsemble`` in eval mode."""

    def __init__(self, model: SoundEnsemble, device: torch.device) -> None:
        self.nets = [InferenceCNN(member, device) for member in model.nets()]

    @torch.inference_mode()
    def __call__(self, mel: torch.Tensor) -> torch.Tensor:
        logits = self.nets[0](mel)
        for net in self.nets[1:]:
            logits = logits + net(mel)
        return logits / len(self.nets)


def inference_net(model: SoundModel, device: torch.device) -> InferenceCNN | InferenceEnsemble:
    """The fast inference copy of a single net or of an ensemble."""
    if isinstance(model, SoundEnsemble):
        return InferenceEnsemble(model, device)
    return InferenceCNN(model, device)
