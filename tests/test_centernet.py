"""The shipped COCO CenterNet: parity with the original graph, shapes, errors, input gradients.

``tests/reference/centernet_reference.npz`` was recorded by the graph interpreter in
``priors/vision/convert_centernet.py`` (float64, executing the TF.js JSON graph node by node):
uint8 inputs (seeded noise at 96×128, the darknet dog photo at 128×128) with the heatmap logits
of eight classes and every class's spatial maximum.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from dreamengine.errors import DreamengineError
from dreamengine.models import CenterNet
from dreamengine.resources import priors_dir

REFERENCE = Path(__file__).parent / "reference" / "centernet_reference.npz"
ATOL = 1e-3  # logits (|logit| up to ~15); measured float32-vs-float64 gap is ~1e-5


@pytest.fixture(scope="module")
def net() -> CenterNet:
    return CenterNet.load(priors_dir() / "vision" / "centernet.pt")


def _nchw(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)[None].contiguous()


@pytest.mark.parametrize("case", ["random", "photo"])
def test_matches_graph_reference(net: CenterNet, case: str) -> None:
    ref = np.load(REFERENCE)
    with torch.no_grad():
        logits = net(_nchw(ref[f"{case}_input"]))[0].numpy()
    np.testing.assert_allclose(logits[ref["classes"]], ref[f"{case}_logits"], rtol=0, atol=ATOL)
    np.testing.assert_allclose(logits.max((1, 2)), ref[f"{case}_logits_max"], rtol=0, atol=ATOL)


def test_loads_frozen_and_labelled(net: CenterNet) -> None:
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    assert all(p.dtype == torch.float32 for p in net.parameters())
    assert len(net.labels) == 80
    assert net.labels[:4] == ("person", "bicycle", "car", "motorcycle")
    assert {"traffic_light", "teddy_bear", "hair_drier"} <= set(net.labels)
    assert net.meta["licence"] == "MIT"


@pytest.mark.parametrize(("h", "w"), [(64, 96), (192, 192)])
def test_shapes(net: CenterNet, h: int, w: int) -> None:
    x = torch.rand(2, 3, h, w) * 255
    with torch.no_grad():
        feats = net.features(x)
        logits = net(x)
    assert logits.shape == (2, 80, h // 4, w // 4)
    expected = {"c2": (72, 4), "c3": (96, 8), "c4": (88, 16), "c5": (480, 32), "p4": (256, 16),
                "p3": (192, 8), "p2": (128, 4), "head": (128, 4)}
    for name, (channels, stride) in expected.items():
        assert feats[name].shape == (2, channels, h // stride, w // stride), name


@pytest.mark.parametrize("shape", [(1, 3, 100, 96), (1, 3, 64, 48), (3, 64, 64), (1, 1, 64, 64)])
def test_bad_input_raises(net: CenterNet, shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="multiples of 32"):
        net(torch.zeros(shape))


def test_corrupt_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "centernet.pt"
    path.write_bytes(b"\x00garbage, not a checkpoint" * 10)
    with pytest.raises(DreamengineError, match="centernet.pt"):
        CenterNet.load(path)


def test_mismatched_checkpoint_names_it(net: CenterNet, tmp_path: Path) -> None:
    path = tmp_path / "partial.pt"
    net.save(path)
    ckpt = torch.load(path, weights_only=True)
    del ckpt["state_dict"]["cls.pointwise.bias"]
    torch.save(ckpt, path)
    with pytest.raises(DreamengineError, match="partial.pt"):
        CenterNet.load(path)


def test_save_load_round_trip(net: CenterNet, tmp_path: Path) -> None:
    path = tmp_path / "copy.pt"
    net.save(path)
    x = torch.rand(1, 3, 64, 64) * 255
    assert torch.equal(CenterNet.load(path)(x), net(x))


def test_gradient_reaches_input(net: CenterNet) -> None:
    x = (torch.rand(1, 3, 96, 96) * 255).requires_grad_(True)
    net(x)[0, net.labels.index("dog")].amax().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
