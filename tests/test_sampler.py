"""PPGN sampling maths on tiny random networks."""

import numpy as np
import pytest
import torch

from dreamengine.dream.state import Dream
from dreamengine.models import (
    ImagePrior,
)
from dreamengine.sampler import PPGNSampler, SamplerConfig, class_log_prob, target_vector
from dreamengine.sampler.objectives import add, scale
from dreamengine.vocabulary import LABELS


def log_p(prior: ImagePrior, h: torch.Tensor, name: str) -> float:
    with torch.no_grad():
        logits = prior.condition(prior.generator(h))
        return float(torch.log_softmax(logits, 1)[0, LABELS.index(name)])


@pytest.mark.parametrize("target", ["dog", "siren", "keys"])
def test_class_term_raises_the_target_log_probability(prior: ImagePrior, target: str) -> None:
    sampler = PPGNSampler(prior.generator, prior.prior.score)
    params = SamplerConfig(eps1=0.0, eps2=1.0, eps3=0.0, lr=0.05)
    objective = class_log_prob(prior.condition, target_vector({target: 1.0}, LABELS))
    h = PPGNSampler.initial_latent(16, seed=1, clip=params.clip)
    before = log_p(prior, h, target)
    scores = []
    for _ in range(30):
        result = sampler.step(h, objective, params)
        scores.append(float(result.score))
        h = result.h
    assert log_p(prior, h, target) > before + 0.05
    assert scores[-1] > scores[0]


def test_mixed_weights_raise_both_classes(prior: ImagePrior) -> None:
    sampler = PPGNSampler(prior.generator, prior.prior.score)
    params = SamplerConfig(eps1=0.0, eps3=0.0, lr=0.05)
    objective = class_log_prob(prior.condition, target_vector({"dog": 0.5, "bird": 0.5}, LABELS))
    h0 = h = PPGNSampler.initial_latent(16, seed=2, clip=params.clip)
    for _ in range(30):
        h = sampler.step(h, objective, params).h
    gains = [log_p(prior, h, n) - log_p(prior, h0, n) for n in ("dog", "bird")]
    assert sum(gains) > 0.05


def test_step_normalisation_sets_the_class_step_length(prior: ImagePrior) -> None:
    sampler = PPGNSampler(prior.generator, prior.prior.score)
    params = SamplerConfig(eps1=0.0, eps2=1.0, eps3=0.0, lr=0.01, clip=100.0)
    objective = class_log_prob(prior.condition, target_vector({"dog": 1.0}, LABELS))
    h = PPGNSampler.initial_latent(16, seed=3, clip=3.0)
    step = sampler.step(h, objective, params).h - h
    assert float(step.abs().mean()) == pytest.approx(0.01, rel=1e-4)


def test_drift_without_objective_follows_prior_and_clips(prior: ImagePrior) -> None:
    sampler = PPGNSampler(prior.generator, prior.prior.score)
    params = SamplerConfig(eps1=0.5, eps3=0.0, clip=0.1)
    h = PPGNSampler.initial_latent(16, seed=4, clip=3.0)
    result = sampler.step(h, None, params)
    expected = (h + 0.5 * prior.prior.score(h)).clamp(-0.1, 0.1)
    torch.testing.assert_close(result.h, expected.detach())
    assert float(result.h.abs().max()) <= 0.1 + 1e-6


def test_objectives_compose(prior: ImagePrior) -> None:
    image = prior.generator(torch.randn(2, 16))
    dog = class_log_prob(prior.condition, target_vector({"dog": 1.0}, LABELS))
    bird = class_log_prob(prior.condition, target_vector({"bird": 1.0}, LABELS))
    both = class_log_prob(prior.condition, target_vector({"dog": 2.0, "bird": 1.0}, LABELS))
    torch.testing.assert_close(add(scale(dog, 2.0), bird)(image), both(image))
    with pytest.raises(ValueError, match="unknown image class 'wolf'"):
        target_vector({"wolf": 1.0}, LABELS)


def test_dream_recovers_from_nan(prior: ImagePrior) -> None:
    dream = Dream(prior, SamplerConfig(), seed=0, device=torch.device("cpu"))
    good = dream.keyframe({"dog": 1.0})
    dream.h = torch.full_like(dream.h, float("nan"))  # as if a step had exploded
    dream._last_good = torch.from_numpy(good.latent)[None].clone()
    recovered = dream.keyframe({"dog": 1.0})
    assert recovered.reset and dream.resets == 1
    assert np.isfinite(recovered.latent).all()
    assert recovered.image.dtype == np.uint8 and recovered.image.shape == (16, 16, 3)
    assert not dream.keyframe({}).reset
