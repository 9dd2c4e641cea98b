"""The sound CNN's contracts: shapes, the music hierarchy, streaming cadence, checkpoints."""

from pathlib import Path

import numpy as np
import pytest
import torch

from dreamengine.classifier import ClassifierConfig, SoundCNN, StreamingClassifier, clip_probs
from dreamengine.classifier.inference import InferenceCNN
from dreamengine.errors import DreamengineError
from dreamengine.vocabulary import LABELS, MUSIC_LABELS, enforce_hierarchy


def small_config() -> ClassifierConfig:
    return ClassifierConfig(width=8, window_frames=32, hop_frames=4)


def test_logits_shape_and_input_check() -> None:
    model = SoundCNN(small_config()).eval()
    assert model(torch.zeros(2, 1, 64, 32)).shape == (2, len(LABELS))
    with pytest.raises(ValueError, match=r"\[B, 1, 64, T\]"):
        model(torch.zeros(2, 64, 32))


def test_music_is_never_below_its_children() -> None:
    probs = np.random.default_rng(0).random((50, len(LABELS))).astype(np.float32)
    out = enforce_hierarchy(probs)
    music = out[:, LABELS.index("music")]
    for child in MUSIC_LABELS:
        assert (music >= out[:, LABELS.index(child)]).all()
    unchanged = [i for i, name in enumerate(LABELS) if name != "music"]
    np.testing.assert_array_equal(out[:, unchanged], probs[:, unchanged])


def test_streaming_emits_one_vector_per_hop() -> None:
    stream = StreamingClassifier(SoundCNN(small_config()), 1e-6, torch.device("cpu"))
    vectors = stream.push(np.zeros((10, 64), np.float32))
    assert len(vectors) == 2  # hops complete after frames 4 and 8
    assert len(stream.push(np.zeros((2, 64), np.float32))) == 1  # frames 9-12 complete a hop
    assert all(v.shape == (len(LABELS),) and ((v >= 0) & (v <= 1)).all() for v in vectors)


def test_the_engine_can_set_the_hop_the_stream_runs_at() -> None:
    stream = StreamingClassifier(SoundCNN(small_config()), 1e-6, torch.device("cpu"), 5)
    assert stream.hop_frames == 5 and len(stream.push(np.zeros((10, 64), np.float32))) == 2
    with pytest.raises(ValueError, match="hop_frames"):
        StreamingClassifier(SoundCNN(small_config()), 1e-6, torch.device("cpu"), 0)


def test_a_window_ends_when_its_newest_sample_was_heard() -> None:
    from dreamengine.engine.classify import window_end_times
    from dreamengine.features import MelConfig, StreamingLogMel

    mel = MelConfig()
    n_samples = mel.n_fft + 8 * mel.hop_length  # exactly 9 frames: hops end after frames 3, 6, 9
    frames = StreamingLogMel(mel).push(np.zeros(n_samples, np.float32))
    times = window_end_times(3, len(frames), 3, mel)
    assert len(frames) == 9 and times[-1] == pytest.approx(n_samples / mel.sr)
    np.testing.assert_allclose(np.diff(times), 3 * mel.hop_length / mel.sr, rtol=1e-6)
    assert window_end_times(1, 2, 3, mel)[0] == pytest.approx((mel.n_fft + mel.hop_length) / mel.sr)


def test_a_bundle_trained_on_other_features_is_refused_by_name(tmp_path: Path) -> None:
    import dataclasses

    from dreamengine.engine.build import load_sound_model
    from dreamengine.engine.config import load_config

    config = load_config()
    mel = dataclasses.asdict(config.features)
    path = tmp_path / "c.pt"
    torch.save(SoundCNN(small_config()).checkpoint({"mel": mel}), path)
    config = dataclasses.replace(config, paths=dataclasses.replace(config.paths,
                                                                   sound_classifier=str(path)))
    assert load_sound_model(config, []).meta["mel"] == mel
    torch.save(SoundCNN(small_config()).checkpoint({"mel": {**mel, "fmax": 7000.0}}), path)
    with pytest.raises(DreamengineError, match=r"features\.fmax is 8000\.0 .*c\.pt.* 7000"):
        load_sound_model(config, [])
    torch.save(SoundCNN(dataclasses.replace(small_config(), n_mels=40)).checkpoint(), path)
    with pytest.raises(DreamengineError, match="features.n_mels is 64 .* takes 40 bands"):
        load_sound_model(config, [])


@pytest.mark.parametrize("mkldnn", [True, False])
def test_inference_copy_matches_the_model(mkldnn: bool, monkeypatch: pytest.MonkeyPatch,
                                          trained_norms) -> None:
    if not mkldnn:
        monkeypatch.setattr(torch.backends.mkldnn, "is_available", lambda: False)
    model = trained_norms(SoundCNN(small_config()))
    fast = InferenceCNN(model, torch.device("cpu"))
    assert fast.use_mkldnn == (mkldnn and torch.backends.mkldnn.is_available())
    x = 3 * torch.randn(1, 1, 64, 32) - 4
    with torch.no_grad():
        torch.testing.assert_close(fast(x), model(x), atol=1e-4, rtol=1e-4)
    assert model.norm.running_var.min() >= 0.5  # the model itself is left untouched


def test_stream_probabilities_are_the_models(trained_norms) -> None:
    model = trained_norms(SoundCNN(small_config()))
    stream = StreamingClassifier(model, 1e-6, torch.device("cpu"))
    frames = np.random.default_rng(1).normal(-4, 3, (32, 64)).astype(np.float32)
    got = stream.push(frames)[-1]
    with torch.no_grad():
        want = torch.sigmoid(model(torch.from_numpy(frames.T.copy())[None, None]))[0].numpy()
    np.testing.assert_allclose(got, enforce_hierarchy(want, LABELS), atol=1e-5)


def test_checkpoint_round_trip_and_corruption(tmp_path: Path) -> None:
    model = SoundCNN(small_config()).eval()
    path = tmp_path / "c.pt"
    torch.save(model.checkpoint({"note": "test"}), path)
    loaded = SoundCNN.from_checkpoint(path)
    x = torch.randn(1, 1, 64, 32)
    torch.testing.assert_close(loaded(x), model(x))
    ckpt = model.checkpoint()
    del ckpt["state_dict"]["head.bias"]
    torch.save(ckpt, path)
    with pytest.raises(DreamengineError, match=r"Missing key\(s\) in state_dict: \"head\.bias\""):
        SoundCNN.from_checkpoint(path)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(DreamengineError, match="corrupt or does not match"):
        SoundCNN.from_checkpoint(path)
    with pytest.raises(DreamengineError, match="not found"):
        SoundCNN.from_checkpoint(tmp_path / "absent.pt")


def test_clip_vector_is_the_mean_of_each_labels_top_half_of_windows() -> None:
    windows = np.zeros((6, len(LABELS)), np.float32)
    dog, siren, drums = (LABELS.index(x) for x in ("dog", "siren", "drums"))
    windows[:, dog] = [0.9, 0.8, 0.7, 0.1, 0.0, 0.0]  # fills half the clip
    windows[2, siren] = 1.0  # one window's flicker
    windows[:, drums] = 0.6
    clip = clip_probs(windows, LABELS)
    assert clip[dog] == pytest.approx(0.8)
    assert clip[siren] == pytest.approx(1 / 3)  # cannot carry the clip, unlike the maximum
    assert clip[LABELS.index("music")] >= clip[drums] == pytest.approx(0.6)
    assert clip_probs(windows[:1], LABELS)[dog] == pytest.approx(0.9)  # one window: itself
    with pytest.raises(ValueError, match="window probabilities"):
        clip_probs(np.zeros((0, len(LABELS))), LABELS)


def test_the_hearing_bench_times_the_bundle_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    import dreamengine.engine.bench as bench
    from dreamengine.engine.config import load_config

    streamed: list[SoundCNN] = []

    class Recording(StreamingClassifier):
        def __init__(self, model: SoundCNN, *args, **kwargs) -> None:
            streamed.append(model)
            super().__init__(model, *args, **kwargs)

    monkeypatch.setattr(bench, "StreamingClassifier", Recording)
    wide = SoundCNN(ClassifierConfig(width=24))
    costs = bench.bench_hearing(load_config(), wide)
    assert streamed == [wide]  # not a net of the config's width (16)
    assert set(costs) == {"features_hop_ms", "classify_hop_ms", "module_hop_ms"}
    assert all(v > 0 for v in costs.values())
