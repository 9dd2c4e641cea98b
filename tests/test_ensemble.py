"""Sound ensembles: nets heard as one (logits averaged), their bundle, and the engine loading it."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from dreamengine.classifier import (
    ClassifierConfig,
    SoundCNN,
    SoundEnsemble,
    StreamingClassifier,
    load_sound_bundle,
)
from dreamengine.errors import DreamengineError
from dreamengine.vocabulary import LABELS, enforce_hierarchy

ROOT = Path(__file__).resolve().parent.parent


def net(width: int, trained_norms, **changes) -> SoundCNN:
    config = ClassifierConfig(width=width, window_frames=32, hop_frames=4)
    return trained_norms(SoundCNN(dataclasses.replace(config, **changes)))


def test_logits_are_the_mean_of_the_members_and_the_stream_agrees(trained_norms) -> None:
    a, b = net(8, trained_norms), net(12, trained_norms)
    both = SoundEnsemble([a, b]).eval()
    x = torch.randn(2, 1, 64, 32)
    with torch.no_grad():
        torch.testing.assert_close(both(x), (a(x) + b(x)) / 2)
        assert not torch.allclose(a(x), b(x), atol=1e-3)  # the mean is not either member
    frames = np.random.default_rng(1).normal(-4, 3, (32, 64)).astype(np.float32)
    got = StreamingClassifier(both, 1e-6, torch.device("cpu")).push(frames)[-1]
    with torch.no_grad():
        want = torch.sigmoid(both(torch.from_numpy(frames.T.copy())[None, None]))[0].numpy()
    np.testing.assert_allclose(got, enforce_hierarchy(want, LABELS), atol=1e-5)


def test_members_that_disagree_on_labels_window_or_hop_are_refused(trained_norms) -> None:
    a = net(8, trained_norms)
    with pytest.raises(ValueError, match="member 1 has window_frames 64, member 0 has 32"):
        SoundEnsemble([a, net(8, trained_norms, window_frames=64)])
    with pytest.raises(ValueError, match="member 1 has labels"):
        SoundEnsemble([a, net(8, trained_norms, labels=LABELS[:-1])])
    with pytest.raises(ValueError, match="at least one"):
        SoundEnsemble([])
    a.meta = {"mel": {"fmin": 125.0}}
    with pytest.raises(ValueError, match=r"member 1 was trained on log-mel \{'fmin': 60.0\}"):
        SoundEnsemble([a, _with_meta(net(12, trained_norms), {"mel": {"fmin": 60.0}})])


def _with_meta(model: SoundCNN, meta: dict) -> SoundCNN:
    model.meta = meta
    return model


def test_an_ensemble_given_as_a_member_adds_its_nets_each_counted_once(trained_norms) -> None:
    a, b, c = (net(w, trained_norms) for w in (8, 12, 16))
    abc = SoundEnsemble([SoundEnsemble([a, b]), c]).eval()
    assert [m.config.width for m in abc.nets()] == [8, 12, 16]
    x = torch.randn(1, 1, 64, 32)
    with torch.no_grad():
        torch.testing.assert_close(abc(x), (a(x) + b(x) + c(x)) / 3)


def test_bundle_round_trip_keeps_every_member_and_its_record(tmp_path: Path,
                                                             trained_norms) -> None:
    a, b = net(8, trained_norms), net(12, trained_norms)
    a.meta, b.meta = {"mel": {"n_mels": 64}, "run": "a"}, {"mel": {"n_mels": 64}, "run": "b"}
    path = tmp_path / "e.pt"
    torch.save(SoundEnsemble([a, b]).checkpoint({"note": "test"}), path)
    loaded = load_sound_bundle(path)
    assert isinstance(loaded, SoundEnsemble)
    assert [m.config.width for m in loaded.nets()] == [8, 12]
    assert [m.meta["run"] for m in loaded.nets()] == ["a", "b"]
    assert loaded.meta["mel"] == {"n_mels": 64} and loaded.meta["note"] == "test"
    x = torch.randn(1, 1, 64, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), (a(x) + b(x)) / 2)
    with pytest.raises(DreamengineError, match=r"e\.pt .*2 nets \(an ensemble\), not one"):
        SoundCNN.from_checkpoint(path)  # a training script given an ensemble says so
    single = tmp_path / "s.pt"
    torch.save(a.checkpoint(), single)
    assert isinstance(load_sound_bundle(single), SoundCNN)


def test_the_engine_hears_through_an_ensemble_bundle(tmp_path: Path, trained_norms) -> None:
    from dreamengine.engine.build import load_sound_model
    from dreamengine.engine.config import load_config

    config = load_config()
    mel = dataclasses.asdict(config.features)
    a, b = net(8, trained_norms), net(12, trained_norms)
    a.meta = b.meta = {"mel": mel}
    path = tmp_path / "e.pt"
    torch.save(SoundEnsemble([a, b]).checkpoint(), path)
    config = dataclasses.replace(config, paths=dataclasses.replace(config.paths,
                                                                   sound_classifier=str(path)))
    assert isinstance(load_sound_model(config, []), SoundEnsemble)
    a.meta = b.meta = {"mel": {**mel, "fmin": 20.0}}
    torch.save(SoundEnsemble([a, b]).checkpoint(), path)
    with pytest.raises(DreamengineError, match=r"features\.fmin is .* was trained with 20"):
        load_sound_model(config, [])


def test_the_ensemble_script_flattens_ensembles_given_as_members(tmp_path: Path,
                                                                 trained_norms) -> None:
    a, b, c = (net(w, trained_norms) for w in (8, 12, 16))
    torch.save(SoundEnsemble([a, b]).checkpoint(), tmp_path / "ab.pt")
    torch.save(c.checkpoint(), tmp_path / "c.pt")
    script = ROOT / "priors" / "sound" / "ensemble.py"
    run = subprocess.run([sys.executable, str(script), str(tmp_path / "ab.pt"),
                          str(tmp_path / "c.pt"), "--out", str(tmp_path / "abc.pt")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    abc = load_sound_bundle(tmp_path / "abc.pt")
    assert isinstance(abc, SoundEnsemble)
    assert [m.config.width for m in abc.nets()] == [8, 12, 16]
    bad = subprocess.run([sys.executable, str(script), str(tmp_path / "c.pt"),
                          str(tmp_path / "absent.pt"), "--out", str(tmp_path / "x.pt")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "absent.pt" in bad.stderr
    assert not (tmp_path / "x.pt").exists()
