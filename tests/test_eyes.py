"""Two eyes on one canvas: CenterNet (COCO) and the ImageNet EfficientNet-Lite0, each class a
name on one of them, only the networks a target needs running."""

from __future__ import annotations

import os

import pytest
import torch

from dreamengine.dream.state import Dream
from dreamengine.engine import load_config
from dreamengine.engine.build import SHIPPED_IMAGENET_EYE, load_vision
from dreamengine.models.eyes import Eyes
from dreamengine.models.imagenet_eye import ImageNetEye
from dreamengine.models.vision import VisionNet
from dreamengine.resources import priors_dir
from dreamengine.sampler import SamplerConfig
from dreamengine.sampler.canvas import canvas_image
from dreamengine.sampler.objectives import take_turns


@pytest.fixture(scope="module")
def eyes() -> Eyes:
    if not (priors_dir() / SHIPPED_IMAGENET_EYE).is_file():
        if os.environ.get("CI"):
            pytest.fail(f"the ImageNet eye {SHIPPED_IMAGENET_EYE} must be shipped")
        pytest.skip("the ImageNet eye is not built")
    net, source = load_vision(load_config(), torch.device("cpu"))
    assert isinstance(net, Eyes) and source["imagenet_eye_sha256"]
    return net


def calls(module: torch.nn.Module) -> list[int]:
    """A list that grows by one each time ``module`` runs forward."""
    seen: list[int] = []
    module.register_forward_hook(lambda *_: seen.append(1))
    return seen


def test_each_eye_names_its_classes_and_only_needed_eyes_run(eyes: Eyes) -> None:
    coco, imagenet = eyes.eye("coco"), eyes.eye("imagenet")
    assert isinstance(coco, VisionNet) and isinstance(imagenet, ImageNetEye)
    assert "dog" in eyes.labels and "imagenet:umbrella" in eyes.labels
    assert "imagenet:sports_car" in eyes.labels and "umbrella" in eyes.labels  # COCO's own
    detector, classifier = calls(coco.detector.stem), calls(imagenet.net.stem)
    params = SamplerConfig(alternate_eyes=False, steps_per_keyframe=1)
    dream = Dream(eyes, params, seed=0, device=torch.device("cpu"), canvas_px=64)
    dream.keyframe({"imagenet:umbrella": 1.0})
    assert (len(detector), len(classifier)) == (0, 1)  # one eye's target: one network
    dream.keyframe({"dog": 1.0})
    assert (len(detector), len(classifier)) == (1, 1)
    dream.keyframe({"dog": 0.5, "imagenet:umbrella": 0.5})
    assert (len(detector), len(classifier)) == (2, 2)  # a mixed target: both, in one step


def test_alternating_eyes_run_one_network_per_step_in_proportion(eyes: Eyes) -> None:
    coco, imagenet = eyes.eye("coco"), eyes.eye("imagenet")
    detector, classifier = calls(coco.detector.stem), calls(imagenet.net.stem)
    dream = Dream(eyes, SamplerConfig(steps_per_keyframe=2), seed=0,
                  device=torch.device("cpu"), canvas_px=64)
    for _ in range(10):
        dream.keyframe({"dog": 0.75, "imagenet:umbrella": 0.25})
    assert len(detector) + len(classifier) == 20
    assert 13 <= len(detector) <= 17  # three steps in four for the heavier class's eye


def test_turns_follow_the_shares_over_any_stretch_and_depend_on_the_step_alone() -> None:
    terms = [lambda x: x, lambda x: 2 * x, lambda x: 3 * x]
    picks = [terms.index(take_turns(terms, [0.5, 0.3, 0.2], s)) for s in range(1000)]
    for start in (0, 500):
        window = picks[start : start + 100]
        assert [window.count(i) for i in range(3)] == pytest.approx([50, 30, 20], abs=4)
    assert picks == [terms.index(take_turns(terms, [0.5, 0.3, 0.2], s)) for s in range(1000)]
    assert take_turns([], [], 3) is None and take_turns(terms[:1], [1.0], 7) is terms[0]


def test_steps_raise_an_imagenet_class(eyes: Eyes) -> None:
    imagenet = eyes.eye("imagenet")
    k = imagenet.labels.index("umbrella")
    dream = Dream(eyes, SamplerConfig(), seed=0, device=torch.device("cpu"), canvas_px=96)

    def logit() -> float:
        image = canvas_image(dream.h.view(1, 3, 96, 96))
        return float(imagenet.heatmaps(image)[0, k].mean())

    before = logit()
    for _ in range(12):
        dream.keyframe({"imagenet:umbrella": 1.0})
    assert logit() > before + 2.0


def test_maps_of_the_wanted_classes_equal_the_full_maps(eyes: Eyes) -> None:
    imagenet = eyes.eye("imagenet")
    rgb = torch.rand(1, 3, 96, 128)
    full = imagenet.heatmaps(rgb)
    assert full.shape == (1, 1000, 3, 4)
    logits = imagenet.net((rgb - imagenet.mean) / imagenet.std)
    torch.testing.assert_close(full.mean(dim=(2, 3)), logits, atol=1e-3, rtol=1e-4)  # CAM
    weights = torch.zeros(1000)
    weights[[3, 880]] = 1.0
    some = imagenet.scorer(weights)(rgb)
    torch.testing.assert_close(some[:, [3, 880]], full[:, [3, 880]])
    assert float(some[:, 4].max()) == -30.0  # not computed


def test_class_weights_read_names_that_hold_a_colon() -> None:
    from dreamengine.selection.selector import class_weights

    assert class_weights(["imagenet:cab:0.5", "dog:2"]) == {"imagenet:cab": 0.5, "dog": 2.0}
    assert class_weights(["imagenet:cab", "dog"], bare=1.0) == {"imagenet:cab": 1.0, "dog": 1.0}
    with pytest.raises(ValueError, match="imagenet:cab"):
        class_weights(["imagenet:cab"])  # a weight is needed where no bare default is given
