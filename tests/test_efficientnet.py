"""The shipped EfficientNet-Lite0: parity with the reference code, any input size, CAM split,
batch-norm folding and checkpoint errors.

``tests/reference/efficientnet_lite0_reference.npz`` was recorded by
``priors/vision/convert_efficientnet.py --reference``: seeded uint8 images (224×224 ×2,
192×256, 72×96) and the logits the reference code ``efficientnet-lite-pytorch==0.1.0`` gives for
them with the unfolded source weights (batch norms in place, dynamic TF "SAME" padding).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from dreamengine.checkpoint import save_checkpoint
from dreamengine.errors import DreamengineError
from dreamengine.models.efficientnet_lite import (
    EFFICIENTNET_MEAN,
    EFFICIENTNET_STD,
    EfficientNetLite,
    EfficientNetLiteConfig,
    fold_batch_norm,
    fold_source_state_dict,
    source_layers,
)
from dreamengine.models.torchvision_vision import split_cam
from dreamengine.resources import priors_dir

CHECKPOINT = priors_dir() / "vision" / "efficientnet_lite0.pt"
REFERENCE = Path(__file__).parent / "reference" / "efficientnet_lite0_reference.npz"
ATOL = 1e-3  # logits (|logit| up to ~9); the measured folded-vs-unfolded gap is ~2e-5


@pytest.fixture(scope="module")
def net() -> EfficientNetLite:
    if not CHECKPOINT.is_file():
        message = f"{CHECKPOINT} missing: run priors/vision/convert_efficientnet.py"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return EfficientNetLite.load(CHECKPOINT)


def _normalised(images: np.ndarray) -> torch.Tensor:
    return (torch.from_numpy(images).float() - 127.0) / 128.0


@pytest.mark.parametrize("name", ["224", "192x256", "72x96"])
def test_matches_reference(net: EfficientNetLite, name: str) -> None:
    ref = np.load(REFERENCE)
    with torch.no_grad():
        logits = net(_normalised(ref[f"input_{name}"])).numpy()
    expected = ref[f"logits_{name}"]
    np.testing.assert_allclose(logits, expected, rtol=0, atol=ATOL)
    np.testing.assert_array_equal(logits.argmax(1), expected.argmax(1))


def test_normalisation_constants_match_the_convention() -> None:
    rgb = torch.rand(1, 3, 4, 4)
    mean = torch.tensor(EFFICIENTNET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(EFFICIENTNET_STD).view(1, 3, 1, 1)
    torch.testing.assert_close((rgb - mean) / std, (rgb * 255 - 127) / 128)


def test_loads_frozen_without_batch_norm(net: EfficientNetLite) -> None:
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    assert all(p.dtype == torch.float32 for p in net.parameters())
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())
    assert net.config == EfficientNetLiteConfig()
    assert net.meta["licence"] == "Apache-2.0"
    assert len(net.blocks) == 16


@pytest.mark.parametrize(("h", "w"), [(192, 192), (256, 144), (224, 224), (50, 33)])
def test_any_size(net: EfficientNetLite, h: int, w: int) -> None:
    x = torch.randn(2, 3, h, w)
    with torch.no_grad():
        features = net.features(x)
        logits = net(x)
    assert features.shape == (2, 1280, -(-h // 32), -(-w // 32))
    assert logits.shape == (2, 1000) and bool(torch.isfinite(logits).all())


def test_traces_and_splits_for_cam(net: EfficientNetLite) -> None:
    x = torch.randn(1, 3, 256, 144)
    traced = torch.fx.symbolic_trace(net)
    split = split_cam(net)
    assert split is not None
    trunk, head = split
    assert head is net.fc
    with torch.no_grad():
        torch.testing.assert_close(traced(x), net(x))
        torch.testing.assert_close(trunk(x), net.features(x))
        torch.testing.assert_close(head(trunk(x).mean(dim=(2, 3))), net(x))


def test_input_gradient(net: EfficientNetLite) -> None:
    x = torch.randn(1, 3, 64, 96, requires_grad=True)
    net(x)[0, 207].backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_fold_batch_norm_matches_conv_then_batch_norm() -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 6, 3, padding=1, bias=False)
    bn = nn.BatchNorm2d(6, eps=1e-3).eval()
    bn.load_state_dict({"weight": torch.rand(6) + 0.5, "bias": torch.randn(6),
                        "running_mean": torch.randn(6), "running_var": torch.rand(6) * 3 + 0.1,
                        "num_batches_tracked": torch.tensor(0)})
    weight, bias = fold_batch_norm(conv.weight.detach(), dict(bn.state_dict()), bn.eps)
    x = torch.randn(2, 4, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(nn.functional.conv2d(x, weight, bias, padding=1), bn(conv(x)))


def test_fold_rejects_unused_and_missing_tensors() -> None:
    source = _source_like()
    config = EfficientNetLiteConfig()
    assert set(fold_source_state_dict(source, config)) == set(EfficientNetLite().state_dict())
    with pytest.raises(ValueError, match="not used"):
        fold_source_state_dict({**source, "_blocks.16._expand_conv.weight": torch.ones(1)}, config)
    del source["_blocks.3._bn1.running_var"]
    with pytest.raises(KeyError, match="running_var"):
        fold_source_state_dict(source, config)


def _source_like() -> dict[str, torch.Tensor]:
    """A random state dict named and shaped like the source wheel's (batch norms unfolded)."""
    source: dict[str, torch.Tensor] = {}
    net = EfficientNetLite()
    for ours, conv, bn in source_layers(net.config):
        weight = net.get_parameter(f"{ours}.weight")
        source[f"{conv}.weight"] = weight.detach().clone()
        channels = weight.shape[0]
        for key in ("weight", "bias", "running_mean"):
            source[f"{bn}.{key}"] = torch.randn(channels)
        source[f"{bn}.running_var"] = torch.rand(channels) + 0.5
        source[f"{bn}.num_batches_tracked"] = torch.tensor(0)
    source["_fc.weight"], source["_fc.bias"] = net.fc.weight.detach(), net.fc.bias.detach()
    return source


def test_corrupt_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "efficientnet_lite0.pt"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(DreamengineError, match="efficientnet_lite0.pt"):
        EfficientNetLite.load(path)


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(DreamengineError, match="nothing.pt"):
        EfficientNetLite.load(tmp_path / "nothing.pt")


def test_mismatched_checkpoint_names_it(net: EfficientNetLite, tmp_path: Path) -> None:
    path = tmp_path / "partial.pt"
    state = dict(net.state_dict())
    del state["blocks.5.depthwise.bias"]
    save_checkpoint({"state_dict": state, "config": dataclasses.asdict(net.config),
                     "meta": net.meta}, path)
    with pytest.raises(DreamengineError, match=r"partial\.pt.*blocks\.5\.depthwise\.bias"):
        EfficientNetLite.load(path)
