"""The torchvision "bring your own weights" vision network: CAM maps, loading, and its errors.

Every network here is randomly initialised and saved to a temporary file: nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torchvision.models import ResNet18_Weights

from dreamengine.errors import DreamengineError
from dreamengine.models.torchvision_vision import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    TorchvisionVision,
    build_classifier,
    load_imagenet_labels,
    split_cam,
)
from dreamengine.resources import priors_dir
from dreamengine.sampler.objectives import heatmap_objective
from dreamengine.selection import load_class_map
from dreamengine.vocabulary import LABELS

CLASSES = {"dog": [207, 208], "bird": [10], "car": [817, 511, 436]}
SIZE = 96  # canvas side: small, and a multiple of 32


@pytest.fixture
def label_file(tmp_path: Path) -> Path:
    path = tmp_path / "labels.toml"
    path.write_text("[classes]\n" + "".join(f"{k} = {v}\n" for k, v in CLASSES.items()))
    return path


def saved(arch: str, tmp_path: Path, wrap: bool = False) -> tuple[torch.nn.Module, Path]:
    """A randomly initialised ``arch`` in eval mode and its state dict saved to ``tmp_path``."""
    torch.manual_seed(0)
    model = build_classifier(arch).eval()
    path = tmp_path / f"{arch}.pt"
    state = model.state_dict()
    torch.save({"state_dict": state, "meta": {"arch": arch}} if wrap else state, path)
    return model, path


def reference_scores(model: torch.nn.Module, rgb: torch.Tensor, reduce: str) -> torch.Tensor:
    """``[B, K]`` label scores straight from the classifier's logits."""
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        logits = model((rgb - mean) / std)
    pick = [logits[:, idx] for idx in CLASSES.values()]
    if reduce == "max":
        return torch.stack([p.amax(dim=1) for p in pick], dim=1)
    return torch.stack([p.logsumexp(dim=1) for p in pick], dim=1)


@pytest.mark.parametrize("reduce", ["logsumexp", "max"])
@pytest.mark.parametrize("arch", ["resnet18", "googlenet"])
def test_cam_maps_average_to_the_label_scores(arch: str, reduce: str, tmp_path: Path,
                                              label_file: Path) -> None:
    model, weights = saved(arch, tmp_path)
    net = TorchvisionVision.from_spec(f"torchvision:{arch}", weights, label_file, reduce=reduce)
    assert net.cam and net.labels == tuple(CLASSES) and net.n_detector == len(CLASSES)
    rgb = torch.rand(2, 3, SIZE, SIZE)
    with torch.no_grad():
        maps = net.heatmaps(rgb)
    assert maps.shape == (2, len(CLASSES), SIZE // 32, SIZE // 32)
    assert maps.std(dim=(2, 3)).min() > 0  # really spatial, not a constant
    torch.testing.assert_close(maps.mean(dim=(2, 3)), reference_scores(model, rgb, reduce),
                               atol=1e-4, rtol=1e-4)


def test_a_head_without_cam_gives_one_place_per_label(tmp_path: Path, label_file: Path) -> None:
    model, weights = saved("mobilenet_v3_small", tmp_path, wrap=True)
    net = TorchvisionVision.from_spec("torchvision:mobilenet_v3_small", weights, label_file)
    assert not net.cam  # its head is a two-layer MLP after the pool
    rgb = torch.rand(1, 3, SIZE, SIZE)
    with torch.no_grad():
        maps = net(rgb)
    assert maps.shape == (1, len(CLASSES), 1, 1)
    torch.testing.assert_close(maps[:, :, 0, 0], reference_scores(model, rgb, "logsumexp"),
                               atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize(("arch", "has_cam"), [
    ("mobilenet_v2", True),  # functional adaptive_avg_pool2d → flatten → dropout → linear
    ("shufflenet_v2_x0_5", True),  # x.mean([2, 3]) → linear
    ("squeezenet1_0", False),  # conv classifier, then pool: no linear head
])
def test_cam_heads_are_found_through_each_kind_of_pool(arch: str, has_cam: bool) -> None:
    split = split_cam(build_classifier(arch).eval())
    assert (split is not None) == has_cam
    if split is not None:
        trunk, head = split
        with torch.no_grad():
            features = trunk(torch.rand(1, 3, 64, 64))
        assert features.shape == (1, head.in_features, 2, 2)


@pytest.mark.parametrize("arch", ["resnet18", "mobilenet_v3_small"])
def test_the_dream_objective_has_a_gradient_on_the_pixels(arch: str, tmp_path: Path,
                                                          label_file: Path) -> None:
    _, weights = saved(arch, tmp_path)
    net = TorchvisionVision.from_spec(f"torchvision:{arch}", weights, label_file)
    # spatial regions need more than one place (top_mean of an empty "outside" fails)
    objective = heatmap_objective(net.heatmaps, torch.tensor([1.0, 0.5, 0.0]), spatial=net.cam,
                                  rival_classes=net.n_detector)
    rgb = torch.rand(1, 3, SIZE, SIZE, requires_grad=True)
    objective(rgb).sum().backward()
    assert rgb.grad is not None
    assert torch.isfinite(rgb.grad).all() and rgb.grad.abs().max() > 0
    assert all(p.grad is None for p in net.parameters())  # the network stays frozen


def test_weights_of_another_architecture_are_refused(tmp_path: Path, label_file: Path) -> None:
    _, weights = saved("resnet18", tmp_path)
    with pytest.raises(DreamengineError, match=r"resnet18\.pt.*torchvision:resnet34.*missing"):
        TorchvisionVision.from_spec("torchvision:resnet34", weights, label_file)


@pytest.mark.parametrize(("content", "message"), [
    (b"not a checkpoint at all", "cannot read weights"),
    (None, "hold no state dict"),
])
def test_a_file_that_is_no_state_dict_is_refused(content: bytes | None, message: str,
                                                 tmp_path: Path, label_file: Path) -> None:
    weights = tmp_path / "junk.pt"
    if content is None:
        torch.save([1, 2, 3], weights)
    else:
        weights.write_bytes(content)
    with pytest.raises(DreamengineError, match=message) as e:
        TorchvisionVision.from_spec("torchvision:resnet18", weights, label_file)
    text = str(e.value)
    assert "junk.pt" in text and "torchvision:resnet18" in text and "\n" not in text


def test_a_missing_weights_file_is_named(tmp_path: Path, label_file: Path) -> None:
    with pytest.raises(DreamengineError, match=r"not found: .*absent\.pt.*torchvision:resnet18"):
        TorchvisionVision.from_spec("torchvision:resnet18", tmp_path / "absent.pt", label_file)


@pytest.mark.parametrize(("spec", "message"), [
    ("torchvision:resnet19", "unknown torchvision classifier 'resnet19'.*googlenet"),
    ("centernet", "expected torchvision:ARCH"),
])
def test_a_bad_spec_is_refused(spec: str, message: str, tmp_path: Path,
                               label_file: Path) -> None:
    with pytest.raises(DreamengineError, match=message):
        TorchvisionVision.from_spec(spec, tmp_path / "w.pt", label_file)


@pytest.mark.parametrize(("text", "message"), [
    ("[classes]\ndog = [207, 1000]\n", r"classes\.dog: 1000 is not an ImageNet index"),
    ("[classes]\ndog = []\n", r"classes\.dog must be a non-empty list"),
    ("[classes]\ndog = [207, 207]\n", r"classes\.dog repeats"),
    ("[classes]\ndog = [207]\ndog = [208]\n", "cannot read label file"),
    ("[classes]\n", "non-empty table"),
    ("[classes]\ndog = [207]\n[extra]\n", "unknown key 'extra'"),
])
def test_a_bad_label_file_names_the_file_and_key(text: str, message: str,
                                                 tmp_path: Path) -> None:
    path = tmp_path / "bad_labels.toml"
    path.write_text(text)
    with pytest.raises(DreamengineError, match=message) as e:
        load_imagenet_labels(path)
    assert "bad_labels.toml" in str(e.value)


def test_a_flat_label_file_reads_as_the_classes_table(tmp_path: Path) -> None:
    path = tmp_path / "flat.toml"
    path.write_text('dog = [207, 208]\nbird = [10]\n')
    assert load_imagenet_labels(path) == {"dog": (207, 208), "bird": (10,)}


def test_the_shipped_label_file_and_class_map_agree() -> None:
    classes = load_imagenet_labels(priors_dir() / "imagenet_labels.toml")
    assert {"dog", "bird", "car", "truck", "umbrella", "guitar", "tools"} <= set(classes)
    class_map = load_class_map(priors_dir() / "class_map_imagenet.toml", LABELS, tuple(classes))
    assert set(class_map.table) == set(LABELS)  # every sound label has a table, maybe empty
    named = {image for targets in class_map.table.values() for image, _ in targets}
    assert named <= set(classes)
    assert class_map.targets("explosion") == ()
    categories = ResNet18_Weights.IMAGENET1K_V1.meta["categories"]  # shipped metadata, no download
    assert [categories[i] for i in classes["umbrella"]] == ["umbrella"]
    assert categories[classes["dog"][0]] == "golden retriever"
