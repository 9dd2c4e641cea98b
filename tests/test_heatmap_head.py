"""The extra heatmap head on CenterNet: shapes, the checkpoint, errors, dreaming through it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dreamengine.engine.config import EngineConfig
from dreamengine.errors import DreamengineError
from dreamengine.models import CenterNet
from dreamengine.models.heatmap_head import HeatmapHead, HeatmapHeadConfig
from dreamengine.models.vision import PATTERNS, VisionNet
from dreamengine.resources import priors_dir

SHIPPED = priors_dir() / "vision" / "head.pt"


@pytest.fixture(scope="module")
def detector() -> CenterNet:
    return CenterNet.load(priors_dir() / "vision" / "centernet.pt")


def test_head_maps_have_the_detector_stride(detector: CenterNet) -> None:
    head = HeatmapHead(HeatmapHeadConfig(labels=("drum", "fire")))
    net = VisionNet(detector, head=head)
    rgb = torch.rand(2, 3, 96, 64)
    maps = net.heatmaps(rgb)
    assert maps.shape == (2, 80 + 2 + len(PATTERNS), 24, 16)
    assert net.labels[80:82] == ("drum", "fire") and net.n_detector == 82
    assert torch.allclose(maps[:, :80], detector(rgb * 255.0))  # COCO's maps are untouched


def test_the_head_runs_only_when_one_of_its_classes_is_wanted(detector: CenterNet) -> None:
    net = VisionNet(detector, head=HeatmapHead(HeatmapHeadConfig(labels=("drum", "fire"))))
    rgb = torch.rand(1, 3, 64, 64)
    full = net.heatmaps(rgb)
    weights = torch.zeros(len(net.labels))
    weights[net.labels.index("dog")] = 1.0
    without = net.scorer(weights)(rgb)  # a COCO target: the head is skipped
    assert without.shape == full.shape
    assert torch.equal(without[:, :80], full[:, :80])
    assert torch.equal(without[:, 82:], full[:, 82:])  # the patterns keep their places
    assert bool((without[:, 80:82] < full[:, :80].min()).all())  # never a rival
    weights[net.labels.index("fire")] = 0.5
    assert torch.equal(net.scorer(weights)(rgb), full)


def test_shipped_head_loads_frozen_with_its_classes() -> None:
    head = HeatmapHead.load(SHIPPED)
    assert "keyboard_instrument" in head.labels and "fire" in head.labels
    assert not any(p.requires_grad for p in head.parameters())
    assert SHIPPED.stat().st_size < 1_000_000  # a few hundred kB beside the 4 MB detector


def test_corrupt_and_mismatched_head_files_name_the_file(tmp_path: Path) -> None:
    corrupt = tmp_path / "head.pt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(DreamengineError, match="head.pt"):
        HeatmapHead.load(corrupt)
    other = tmp_path / "other.pt"
    torch.save({"state_dict": {"x": torch.zeros(1)}, "config": {"labels": ["a"]}, "meta": {}},
               other)
    with pytest.raises(DreamengineError, match="other.pt"):
        HeatmapHead.load(other)


def test_dreaming_through_the_head_raises_its_class(detector: CenterNet) -> None:
    from dreamengine.dream.state import Dream
    from dreamengine.sampler import SamplerConfig

    net = VisionNet(detector, head=HeatmapHead.load(SHIPPED))
    dream = Dream(net, SamplerConfig(), seed=3, device=torch.device("cpu"), canvas_px=64)
    first = dream.keyframe({"keyboard_instrument": 1.0}).score
    for _ in range(12):
        last = dream.keyframe({"keyboard_instrument": 1.0}).score
    assert last > first + 0.5


def test_the_engine_loads_the_shipped_head_unless_told_not_to() -> None:
    from dreamengine.config import apply_overrides
    from dreamengine.engine.build import load_vision

    alone = {"paths.imagenet_eye": "none"}  # CenterNet without the second eye
    net, source = load_vision(apply_overrides(EngineConfig(), alone), torch.device("cpu"))
    assert isinstance(net, VisionNet) and "drum" in net.labels
    assert source["head"] is not None and len(str(source["head_sha256"])) == 64
    bare, source = load_vision(apply_overrides(EngineConfig(), {**alone,
                                                                "paths.vision_head": "none"}),
                               torch.device("cpu"))
    assert "drum" not in bare.labels and source["head"] is None


def test_saved_checkpoints_get_the_usual_file_mode(tmp_path: Path) -> None:
    from dreamengine.filemode import usual_file_mode

    path = tmp_path / "head.pt"
    HeatmapHead(HeatmapHeadConfig(labels=("drum",))).save(path)
    assert path.stat().st_mode & 0o777 == usual_file_mode()
    assert HeatmapHead.load(path).labels == ("drum",)
