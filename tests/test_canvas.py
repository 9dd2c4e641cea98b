"""The canvas dream: the picture is the latent, climbed on the photo-trained vision network."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dreamengine.dream.state import Dream
from dreamengine.models.vision import VisionNet
from dreamengine.resources import priors_dir
from dreamengine.sampler import SamplerConfig
from dreamengine.sampler.canvas import (
    SPREAD,
    View,
    canvas_step,
    coarse_side,
    enlarge,
    initial_canvas,
    move,
    precondition,
    renormalise,
    shrink,
)
from dreamengine.sampler.objectives import heatmap_objective, top_mean


@pytest.fixture(scope="module")
def vision() -> VisionNet:
    return VisionNet.load(priors_dir() / "vision" / "centernet.pt")


def test_a_zoom_of_two_halves_a_ramps_slope_exactly() -> None:
    side = 64
    ramp = torch.linspace(-1, 1, side).expand(1, 3, side, side).clone()
    zoomed = move(ramp, View(zoom=2.0))
    inner = slice(side // 4, 3 * side // 4)
    slope = (ramp[0, 0, 0, 1] - ramp[0, 0, 0, 0]).item()
    got = zoomed[0, 0, 10, inner].diff()
    assert got.mean().item() == pytest.approx(slope / 2, rel=1e-2)  # magnified: spread out
    assert (got - slope / 2).abs().max().item() < 0.2 * slope  # bicubic ripple stays small
    assert abs(zoomed[0, 0, 10, side // 2].item()) < slope  # about the centre


def test_a_rotation_turns_the_canvas_as_the_feedback_pass_does() -> None:
    # feedback.frag samples the old canvas at mat2(c, -s, s, c) * p: a point below the centre
    # (rows grow downward) reads from the right of it after a quarter turn.
    side = 64
    z = torch.zeros(1, 3, side, side)
    z[..., :, side // 2 + 10 : side // 2 + 14] = 1.0  # a vertical bar right of the centre
    turned = move(z, View(rotate=math.pi / 2))
    rows = turned[0, 0].sum(dim=1)
    assert int(rows.argmax()) > side // 2 and rows[: side // 2].sum() == 0
    assert move(z, View()) is z  # a still view is free


def test_renormalise_keeps_full_colour_and_preconditioning_keeps_the_mean() -> None:
    z = renormalise(0.01 * torch.randn(1, 3, 32, 32) + 0.3)
    np.testing.assert_allclose(z.std(dim=(-2, -1)).flatten().numpy(), SPREAD, rtol=1e-4)
    g = torch.randn(1, 3, 32, 32)
    np.testing.assert_allclose(precondition(g, 1.0).mean().item(), g.mean().item(), atol=1e-5)


def test_the_class_term_has_the_step_size_it_is_given() -> None:
    z = initial_canvas(32, seed=0)

    def objective(image: torch.Tensor) -> torch.Tensor:
        return image[:, 0].mean(dim=(1, 2)) * 1000.0  # any scale: the step is normalised

    params = SamplerConfig(eps1=0.0, eps3=0.0, lr=0.05)
    g = torch.Generator().manual_seed(0)
    before = renormalise(z)
    moved = canvas_step(z, objective, params, g).z
    assert 0.0 < (moved - before).pow(2).mean().sqrt().item() < 0.2


def test_spatial_heatmaps_raise_each_class_in_its_own_region() -> None:
    def heatmaps(image: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.avg_pool2d(image[:, :2], 4)  # class k = channel k

    objective = heatmap_objective(heatmaps, torch.tensor([1.0, 0.8]), spatial=True,
                                  suppress=0.0, fraction=0.25)
    image = torch.full((1, 3, 64, 64), 0.5, requires_grad=True)
    (grad,) = torch.autograd.grad(objective(image).sum(), image)
    left, right = grad[0, :, 24:40, :8], grad[0, :, 24:40, -8:]
    assert left[0].sum() > 0 >= right[0].sum()  # the first class grows on the left only
    assert right[1].sum() > 0 >= left[1].sum()  # the second on the right only


def test_top_mean_reads_only_the_strongest_places() -> None:
    maps = torch.zeros(1, 4, 4)
    maps[0, 0, 0] = 16.0
    assert top_mean(maps, 1 / 16).item() == 16.0
    assert top_mean(maps, 1 / 8).item() == 8.0


@pytest.mark.slow
def test_a_few_steps_raise_the_wanted_heatmap(vision: VisionNet) -> None:
    dog = vision.labels.index("dog")
    params = SamplerConfig(steps_per_keyframe=1)
    dream = Dream(vision, params, seed=0, device=torch.device("cpu"), canvas_px=64)

    def dog_score(dream: Dream = dream) -> float:
        side = dream.canvas_px
        image = torch.from_numpy(dream.image()).permute(2, 0, 1)[None].float() / 255
        assert image.shape[-1] == side
        with torch.no_grad():
            return top_mean(vision.heatmaps(image)[:, dog], 1 / 16).item()

    drifting = Dream(vision, params, seed=0, device=torch.device("cpu"), canvas_px=64)
    for _ in range(12):
        key = dream.keyframe({"dog": 1.0}, 1 / 30)
        drifting.keyframe({}, 1 / 30)
    assert dog_score() > dog_score(drifting) + 0.4
    assert key.image.shape == (64, 64, 3) and key.latent.shape == (3 * 64 * 64,)
    assert key.step == 11 and key.dt == pytest.approx(1 / 30)


@pytest.mark.parametrize("coarse_keyframes", [0, 4])
def test_a_keyframe_is_re_simulated_exactly_from_its_record(vision: VisionNet,
                                                            coarse_keyframes: int) -> None:
    params = SamplerConfig(steps_per_keyframe=1, coarse_keyframes=coarse_keyframes)
    dream = Dream(vision, params, seed=5, device=torch.device("cpu"), canvas_px=64)
    dream.keyframe({"bird": 1.0}, 0.1)
    state = dream.h.clone()
    key = dream.keyframe({"bird": 1.0, "dog": 0.5}, 0.1)
    assert key.coarse == (coarse_keyframes > 0)
    # the recorded flags decide, whatever the re-simulating dream's own settings say
    again = Dream(vision, SamplerConfig(steps_per_keyframe=1), seed=0,
                  device=torch.device("cpu"), canvas_px=64)
    again.restore(state)
    again.seed, again.step = key.seed, key.step
    redo = again.keyframe({"bird": 1.0, "dog": 0.5}, key.dt, key.renewed, key.coarse)
    np.testing.assert_array_equal(redo.image, key.image)


def test_a_shrunk_enlargement_is_the_small_canvas_again() -> None:
    small = initial_canvas(32, seed=4)
    big = enlarge(small, 64)
    torch.testing.assert_close(shrink(big, 32), small, rtol=0, atol=1e-5)
    smooth = torch.nn.functional.interpolate(small, size=(64, 64), mode="bicubic")
    assert (big - smooth).abs().mean() < 0.1 * small.std()  # mostly the smooth enlargement
    assert coarse_side(192) == 96 and coarse_side(224) == 96 and coarse_side(64) == 32


def test_the_canvas_is_dreamed_coarse_first_after_a_start_and_a_change(vision: VisionNet) -> None:
    params = SamplerConfig(steps_per_keyframe=1, coarse_keyframes=3, renew_after_s=0.0)
    dream = Dream(vision, params, seed=2, device=torch.device("cpu"), canvas_px=64)

    def keyframe(target: dict[str, float]) -> tuple[bool, bool]:
        key = dream.keyframe(target)
        h = dream.h.view(1, 3, 64, 64)
        only_coarse = torch.allclose(enlarge(shrink(h, 32), 64), h, atol=1e-5)
        return key.coarse, only_coarse

    assert [keyframe({"dog": 1.0}) for _ in range(4)] == [(True, True)] * 3 + [(False, False)]
    assert keyframe({"bird": 1.0}) == (True, True)  # a new lead: large shapes first again
    assert keyframe({"bird": 1.0}) == (True, True)
    assert keyframe({"bird": 1.0}) == (True, True)
    assert keyframe({"bird": 1.0}) == (False, False)


def test_a_new_leading_class_erases_the_old_detail(vision: VisionNet) -> None:
    params = SamplerConfig(steps_per_keyframe=1, renew=0.8, renew_after_s=0.0)
    dream = Dream(vision, params, seed=1, device=torch.device("cpu"), canvas_px=64)
    assert not dream.keyframe({"dog": 1.0}).renewed  # from drift to a class: nothing to erase
    assert not dream.keyframe({"dog": 1.0, "bird": 0.4}).renewed  # the same lead
    before = dream.h.view(1, 3, 64, 64)
    detail = (before - torch.nn.functional.avg_pool2d(before, 3, 1, 1)).abs().mean()
    from dreamengine.sampler.canvas import renew
    after = renew(before, 0.8)
    assert (after - torch.nn.functional.avg_pool2d(after, 3, 1, 1)).abs().mean() < 0.7 * detail
    assert not dream.keyframe({}).renewed  # drifting erases nothing
    assert dream.keyframe({"bird": 1.0}).renewed  # a new lead, even after a silence


def test_a_lead_must_settle_before_the_canvas_is_renewed(vision: VisionNet) -> None:
    params = SamplerConfig(steps_per_keyframe=1, renew_after_s=0.5)
    dream = Dream(vision, params, seed=1, device=torch.device("cpu"), canvas_px=32)

    def renewed(*targets: dict[str, float]) -> list[bool]:
        return [dream.keyframe(t, 0.2).renewed for t in targets]

    dog, bird, both = {"dog": 1.0}, {"bird": 1.0}, {"bird": 0.55, "dog": 0.45}
    assert renewed(dog, dog) == [False, False]
    # two sounds at about the same strength: the lead flickers, nothing is erased
    assert renewed(both, dog, both, dog, both, dog) == [False] * 6
    # a new lead that stays: renewed once it has led for 0.5 s (a silence does not reset it)
    assert renewed(bird, {}, bird, bird, bird) == [False, False, False, True, False]
    assert dream.lead == "bird"
    assert renewed(dog, dog, dog) == [False, False, True]


def test_a_renewal_lost_to_a_reset_is_made_again(vision: VisionNet,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    import dreamengine.dream.state as state

    dream = Dream(vision, SamplerConfig(steps_per_keyframe=1, renew_after_s=0.4), seed=1,
                  device=torch.device("cpu"), canvas_px=32)
    real, poison = state.canvas_step, {"on": False}

    def exploding(z, objective, params, g):
        result = real(z, objective, params, g)
        return dataclasses.replace(result, z=torch.full_like(result.z, math.nan)) \
            if poison["on"] else result

    monkeypatch.setattr(state, "canvas_step", exploding)
    dream.keyframe({"dog": 1.0}, 0.2)
    dream.keyframe({"bird": 1.0}, 0.2)
    poison["on"] = True
    key = dream.keyframe({"bird": 1.0}, 0.2)  # bird has led 0.4 s: renewed, then non-finite
    assert key.renewed and key.reset and dream.lead == "dog"  # back to the canvas of the dog
    poison["on"] = False
    key = dream.keyframe({"bird": 1.0}, 0.2)
    assert key.renewed and not key.reset and dream.lead == "bird"


def test_the_canvas_must_fit_the_network() -> None:
    with pytest.raises(ValueError, match="multiple of 32"):
        Dream(VisionNet.load(priors_dir() / "vision" / "centernet.pt"), SamplerConfig(), 0,
              torch.device("cpu"), canvas_px=100)
