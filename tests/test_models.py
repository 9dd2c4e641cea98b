"""Image prior bundle: shapes, save/load, and clear errors for bad files."""

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from dreamengine.errors import DreamengineError
from dreamengine.models import (
    ConditionConfig,
    GeneratorConfig,
    ImagePrior,
    ImagePriorConfig,
    LatentPriorConfig,
)
from dreamengine.vocabulary import LABELS


def tiny_config() -> ImagePriorConfig:
    return ImagePriorConfig(GeneratorConfig(latent_dim=16, size=16, width=32),
                            LatentPriorConfig(latent_dim=16, hidden=32),
                            ConditionConfig(width=8, blocks=2))


def test_shapes() -> None:
    prior = ImagePrior.random(tiny_config(), seed=0)
    image = prior.generator(torch.randn(3, 16))
    assert image.shape == (3, 3, 16, 16) and image.abs().max() <= 1
    assert prior.condition(image).shape == (3, len(LABELS))
    assert prior.prior(torch.randn(3, 16)).shape == (3, 16)
    with pytest.raises(ValueError, match=r"\[B, 16\]"):
        prior.generator(torch.randn(3, 8))


def test_random_is_seeded_and_does_not_touch_global_rng() -> None:
    state = torch.random.get_rng_state()
    a, b = ImagePrior.random(tiny_config(), 3), ImagePrior.random(tiny_config(), 3)
    assert torch.equal(torch.random.get_rng_state(), state)
    h = torch.randn(1, 16)
    torch.testing.assert_close(a.generator(h), b.generator(h))


def test_save_load_round_trip(tmp_path: Path) -> None:
    prior = ImagePrior.random(tiny_config(), seed=1)
    prior.meta["trained"] = True
    prior.save(tmp_path / "b" / "prior.pt")
    loaded = ImagePrior.load(tmp_path / "b" / "prior.pt")
    assert loaded.config == prior.config and loaded.trained
    h = torch.randn(2, 16)
    torch.testing.assert_close(loaded.generator(h), prior.generator(h))
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["prior.pt"]  # no temp files left


def test_corrupt_and_mismatched_bundles_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DreamengineError, match="not found"):
        ImagePrior.load(tmp_path / "absent.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00garbage")
    with pytest.raises(DreamengineError, match="junk.pt"):
        ImagePrior.load(junk)
    prior = ImagePrior.random(tiny_config(), seed=1)
    prior.save(tmp_path / "p.pt")
    payload = torch.load(tmp_path / "p.pt", weights_only=True)
    payload["config"]["generator"]["width"] = 64  # weights no longer fit the config
    torch.save(payload, tmp_path / "mismatch.pt")
    with pytest.raises(DreamengineError, match="does not match"):
        ImagePrior.load(tmp_path / "mismatch.pt")


def test_latent_sizes_must_agree() -> None:
    with pytest.raises(ValueError, match="latent_dim"):
        replace(tiny_config(), prior=LatentPriorConfig(latent_dim=8))
