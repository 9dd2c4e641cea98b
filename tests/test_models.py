"""Image prior networks: shapes, save/load, and clear errors for bad files."""

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from dreamengine.errors import DreamengineError
from dreamengine.models import (
    ConditionConfig,
    ConditionNet,
    Discriminator,
    DiscriminatorConfig,
    Encoder,
    EncoderConfig,
    GeneratorConfig,
    ImagePrior,
    ImagePriorConfig,
    LatentPriorConfig,
    RefereeConfig,
    RefereeNet,
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


def test_generator_is_batch_independent_in_train_and_eval() -> None:
    prior = ImagePrior.random(tiny_config(), seed=2)
    h = torch.randn(4, 16)
    batch = prior.generator.train()(h)
    single = torch.cat([prior.generator.eval()(h[i:i + 1]) for i in range(4)])
    torch.testing.assert_close(batch, single)  # PixelNorm: the sampler's batch of 1 is exact


def test_condition_pools_large_images_to_its_input_size() -> None:
    net = ConditionNet(ConditionConfig(width=8, blocks=2, input_size=16)).eval()
    image = torch.rand(2, 3, 16, 16) * 2 - 1
    big = image.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    torch.testing.assert_close(net(big), net(image))


def test_training_networks_shapes() -> None:
    d = Discriminator(DiscriminatorConfig(size=16, width=8))
    assert d(torch.randn(3, 3, 16, 16)).shape == (3,)
    e = Encoder(EncoderConfig(latent_dim=16, size=16, width=8))
    assert e(torch.randn(3, 3, 16, 16)).shape == (3, 16)
    with pytest.raises(ValueError, match="expected"):
        d(torch.randn(3, 3, 32, 32))


def test_referee_round_trip_and_bad_file(tmp_path: Path) -> None:
    referee = RefereeNet(RefereeConfig(width=8, stages=2), {"input_size": 16}).eval()
    referee.save(tmp_path / "referee.pt")
    loaded = RefereeNet.from_checkpoint(tmp_path / "referee.pt")
    x = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(loaded(x), referee(x))
    assert loaded(x).shape == (2, len(LABELS)) and loaded.meta["input_size"] == 16
    (tmp_path / "bad.pt").write_bytes(b"nope")
    with pytest.raises(DreamengineError, match="bad.pt"):
        RefereeNet.from_checkpoint(tmp_path / "bad.pt")
