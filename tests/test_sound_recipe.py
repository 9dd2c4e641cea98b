"""The sound classifier's data build and training recipe (``priors/sound``), on made-up data.

The real build needs the Debian packages and runs on demand; these tests pin the parts whose
mistakes would silently spoil a trained model: splits that move between rebuilds (a training
clip would land in validation) and augmentations that change what a label means.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "priors" / "sound"))

import manifest
from items import Item, Stored


def _entry(group: str, labels: tuple[str, ...]) -> manifest.Entry:
    item = Item(group, "test", True, group, "CC0", lambda: [], labels=labels)
    piece = Stored(f"clips/{group}.wav", 1.0, group, group)
    return manifest.Entry(item, labels, "test", (piece,))


def test_splits_are_stratified_and_stay_put_when_the_data_grows() -> None:
    first = [_entry(f"other{i}", ("other",)) for i in range(50)]
    first += [_entry(f"dog{i}", ("dog",)) for i in range(10)]
    before = manifest.assign_splits(first)
    assert sum(before[f"other{i}"] == "val" for i in range(50)) == 10
    assert sum(before[f"dog{i}"] == "val" for i in range(10)) == 2

    grown = first + [_entry(f"more{i}", ("other",)) for i in range(40)]
    fresh = manifest.assign_splits(grown)  # without the earlier build, old groups may move
    assert any(fresh[g] != before[g] for g in before)
    kept = manifest.assign_splits(grown, before)
    assert all(kept[g] == before[g] for g in before)
    assert sum(kept[f"more{i}"] == "val" for i in range(40)) == 8  # new groups: 20 % to val


def test_previous_splits_reads_a_manifest(tmp_path: Path) -> None:
    assert manifest.previous_splits(tmp_path / "missing.jsonl") == {}
    rows = manifest.manifest_rows([_entry("a", ("dog",)), _entry("b", ("dog",))])
    manifest.write_outputs(tmp_path, rows, {}, {})
    assert manifest.previous_splits(tmp_path / "manifest.jsonl") == {
        r["group"]: r["split"] for r in rows}


def test_the_second_training_bank_is_allowed_and_the_reserved_soundfonts_are_not() -> None:
    import debs

    debs.check_allowed("csound-soundfont")  # raises if it were not on the allow-list
    reserved = ("timgm6mb-soundfont", "musescore-general-soundfont-small")
    for name in (*reserved, "fluidr3mono-gm-soundfont"):  # the last one: not on the allow-list
        with pytest.raises(debs.ReservedPackageError, match=name):
            debs.check_allowed(name)


@pytest.fixture(scope="module")
def sampler():
    train = pytest.importorskip("train")  # priors/sound/train.py (needs scipy, soundfile)
    rows = [{"labels": [name], "split": "train", "real": True}
            for name in train.SCENE_LABELS + train.MUSIC_LABELS]
    rng = np.random.default_rng(0)
    feats = [[np.full((80, 64), -3.0, np.float16) for _ in rows] for _ in train.RATES]
    return train, train.CropSampler(rows, feats, [feats[0][0]], 64, rng)


def test_reverb_adds_a_decaying_tail_after_the_event_and_nothing_before(sampler) -> None:
    _, s = sampler
    p = np.zeros((64, 64), np.float32)
    p[20:24] = 1.0  # a 40 ms burst
    wet = s.reverb(p)
    assert np.all(wet[:20] == 0.0)  # causal
    assert np.all(wet[20:24] >= p[20:24])
    tail = wet[24:].sum(1)
    assert tail[0] > 0 and np.all(np.diff(tail) <= 1e-9)  # decays
    assert wet[40:, -1].sum() < wet[40:, 0].sum()  # highs die first


def test_equalise_is_a_smooth_positive_gain_per_band(sampler) -> None:
    _, s = sampler
    p = np.ones((64, 64), np.float32)
    q = s.equalise(p)
    gain_db = 10 * np.log10(q[0])
    assert np.all(q > 0) and np.allclose(q, q[0])  # the same curve in every frame
    assert np.abs(gain_db).max() <= 15.0 + 1e-6
    assert np.abs(np.diff(gain_db)).max() < 3.0  # smooth across neighbouring bands


def test_other_is_drawn_more_often_than_each_named_scene_label(sampler) -> None:
    train, s = sampler
    drawn = [s.pick_clip() for _ in range(6000)]
    counts = np.bincount(drawn, minlength=len(train.SCENE_LABELS))
    other, dog = train.SCENE_LABELS.index("other"), train.SCENE_LABELS.index("dog")
    assert counts[other] > 2 * counts[dog]


def test_re_voiced_clips_carry_an_nrpn_offset_per_part_and_generator() -> None:
    import midi
    import music

    clip = music.single_clip("brass", np.random.default_rng(1), music.FULL_GM)
    varied = music.with_timbre(clip, np.random.default_rng(2))
    assert varied.notes == clip.notes and varied.labels == clip.labels
    assert len(varied.timbre) == len(clip.programs) * len(music.TIMBRE)
    for ch, gen, offset in varied.timbre:
        (low, high), units = music.TIMBRE[gen]
        assert low <= offset * units <= high and ch in dict(clip.programs)
    plain, voiced = midi.write_midi([clip]), midi.write_midi([varied])
    ch, gen, offset = varied.timbre[0]
    data = 8192 + offset
    nrpn = bytes([0xB0 | ch, 99, 120, 0xB0 | ch, 98, gen, 0xB0 | ch, 38, data & 0x7F,
                  0xB0 | ch, 6, data >> 7])
    assert nrpn not in plain
    # the four controller messages follow each other at the slot start (delta time 0)
    assert voiced.find(nrpn[:3] + b"\x00" + nrpn[3:6]) > 0
    with pytest.raises(ValueError, match="out of range"):
        midi.nrpn_generator(0, 8, 9000)


def test_keyword_rules_for_the_plane_and_the_jingle() -> None:
    import keywords

    assert keywords.match("lincity-ng-data", "ParklandPlane2.wav")[0] == ("engine",)
    assert keywords.match("wesnoth-1.16-data", "sounds/gamestart.ogg")[0] == ()
    assert keywords.match("lincity-ng-data", "Monument2.wav")[0] == ("other",)


def test_fast_engines_are_repeatable_clean_clips_of_three_kinds() -> None:
    import synth

    clips = [synth.fast_engine(i) for i in range(3)]  # race, jet, rotor
    again = synth.fast_engine(1)
    assert np.array_equal(again[0].samples, clips[1][0].samples)
    for pieces in clips:
        wave = np.concatenate([p.samples for p in pieces])
        assert 3.0 <= len(wave) / 16000 <= 8.1 and np.isfinite(wave).all()
        assert np.abs(wave).max() <= 1.0
    spectra = [np.abs(np.fft.rfft(p[0].samples[:16000])) for p in clips]
    assert not np.allclose(spectra[0], spectra[1])


def test_the_teacher_term_takes_a_list_of_labels_and_names_a_wrong_one() -> None:
    import subprocess

    script = Path(__file__).parent.parent / "priors" / "sound" / "train.py"
    done = subprocess.run([sys.executable, str(script), "--teacher-on", "dog,unicorn",
                           "--minutes", "0"], capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 2 and "unknown labels ['unicorn']" in done.stderr


def test_the_weight_average_trails_the_weights_and_loads_into_a_plain_model(sampler) -> None:
    train, _ = sampler
    from dreamengine.classifier import ClassifierConfig, SoundCNN

    torch = pytest.importorskip("torch")
    model = SoundCNN(ClassifierConfig())
    assert train.weight_average(model, 0.0) is None
    ema = train.weight_average(model, 0.5)
    start = model.head.weight.detach().clone()
    with torch.no_grad():
        model.head.weight.add_(1.0)
    ema.update_parameters(model)  # the first update copies, later ones move halfway
    with torch.no_grad():
        model.head.weight.add_(1.0)
    ema.update_parameters(model)
    assert torch.allclose(ema.module.head.weight, start + 1.5)
    plain = SoundCNN(ClassifierConfig())
    plain.load_state_dict(train.averaged_weights(ema.state_dict()))
    assert torch.equal(plain.head.weight, ema.module.head.weight)


def test_widening_keeps_the_function_and_the_noise_only_moves_new_filters(trained_norms) -> None:
    import torch
    from widen import widened

    from dreamengine.classifier import ClassifierConfig, SoundCNN

    narrow = trained_norms(SoundCNN(ClassifierConfig(width=4, window_frames=32)))
    wide = widened(narrow, SoundCNN(ClassifierConfig(width=6, window_frames=32))).eval()
    x = torch.randn(3, 1, 64, 32)
    with torch.no_grad():
        torch.testing.assert_close(wide(x), narrow(x), atol=1e-5, rtol=1e-5)
    jittered = widened(narrow, SoundCNN(ClassifierConfig(width=6, window_frames=32)), noise=0.1)
    first = jittered.features[0][0].weight
    torch.testing.assert_close(first[:4], narrow.features[0][0].weight)
    assert not torch.equal(first[4:], wide.features[0][0].weight[4:])
    with pytest.raises(ValueError, match="cannot widen 8 channels to 6"):
        widened(SoundCNN(ClassifierConfig(width=8)), SoundCNN(ClassifierConfig(width=6)))


def test_a_weight_average_is_the_mean_of_alike_nets_and_refuses_unlike_ones() -> None:
    import torch
    from soup import averaged

    from dreamengine.classifier import ClassifierConfig, SoundCNN

    torch.manual_seed(0)
    a, b = SoundCNN(ClassifierConfig(width=8)), SoundCNN(ClassifierConfig(width=8))
    mean = averaged([a, b])
    name = "features.0.0.weight"
    expected = (a.state_dict()[name] + b.state_dict()[name]) / 2
    assert torch.equal(mean.state_dict()[name], expected)
    assert not torch.equal(expected, a.state_dict()[name])
    with pytest.raises(ValueError, match="architecture"):
        averaged([a, SoundCNN(ClassifierConfig(width=16))])


def test_a_narrow_bundle_averages_as_the_start_a_wide_run_was_widened_to(trained_norms) -> None:
    import torch
    from soup import as_wide, averaged
    from widen import START_NOISE, widened

    from dreamengine.classifier import ClassifierConfig, SoundCNN

    narrow = trained_norms(SoundCNN(ClassifierConfig(width=4, window_frames=32)))
    start = SoundCNN(ClassifierConfig(width=6, window_frames=32))
    widened(narrow, start, noise=START_NOISE, seed=7)  # what train.py --init --seed 7 begins from
    wide = as_wide(narrow, 6, seed=7)
    assert all(torch.equal(v, wide.state_dict()[k]) for k, v in start.state_dict().items())
    other_seed = as_wide(narrow, 6, seed=8)
    assert not torch.equal(wide.features[0][0].weight, other_seed.features[0][0].weight)
    assert as_wide(narrow, None, seed=7) is narrow and as_wide(start, 6, seed=7) is start
    assert averaged([wide, start]).config.width == 6


def test_onset_latency_is_timed_when_the_newest_frame_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """A net that names the class from the first window holding the clip: the latency is when
    that window's newest frame ended on the audio clock (n_fft after it began), plus the
    smoothing's hops — never the frame's start."""
    import evaluate

    from dreamengine.classifier import ClassifierConfig, SoundCNN
    from dreamengine.vocabulary import LABELS

    model = SoundCNN(ClassifierConfig())
    dog, hop = LABELS.index("dog"), model.config.hop_frames

    def instant(_model, frames, *_args) -> np.ndarray:
        probs = np.zeros((len(frames) // hop, len(LABELS)), np.float32)
        newest = (np.arange(len(probs)) + 1) * hop - 1
        probs[newest >= len(frames) - 50, dog] = 1.0  # the clip is the last 50 frames
        return probs

    monkeypatch.setattr(evaluate, "window_probs", instant)
    ms = evaluate.onset_latency_ms(model, np.zeros((50, 64), np.float32), "dog")
    first = 1e3 * ((hop - 1) * evaluate.MEL.hop_length + evaluate.MEL.n_fft) / evaluate.MEL.sr
    step = 1e3 * hop * evaluate.MEL.hop_length / evaluate.MEL.sr
    assert first <= ms < 500 and (ms - first) / step == pytest.approx(round((ms - first) / step))


def test_a_resumed_run_keeps_the_score_of_a_best_checkpoint_newer_than_its_state(
        sampler, tmp_path: Path) -> None:
    import torch

    from dreamengine.checkpoint import save_checkpoint
    from dreamengine.classifier import ClassifierConfig, SoundCNN

    train, _ = sampler
    model = SoundCNN(ClassifierConfig(width=4))
    opt = torch.optim.AdamW(model.parameters())
    state = {"step": 10, "elapsed_s": 5.0, "best_score": 0.5, "history": []}
    save_checkpoint({"model": model.state_dict(), "optimizer": opt.state_dict(), "state": state},
                    tmp_path / "last.pt")
    assert train.resume(tmp_path, model, opt)["best_score"] == 0.5
    save_checkpoint(model.checkpoint({"step": 12, "score": 0.7}), tmp_path / "best.pt")
    assert train.resume(tmp_path, model, opt)["best_score"] == 0.7  # written after last.pt
    assert train.resume(tmp_path / "fresh", model, opt)["step"] == 0


def test_the_flicker_term_pairs_each_crop_with_a_window_a_few_frames_earlier() -> None:
    import torch
    from train import flicker_loss, shifted_pair

    x = torch.arange(2 * 3 * 10, dtype=torch.float32).reshape(2, 1, 3, 10)
    shifts = set()
    for seed in range(40):
        pair = shifted_pair(x, 4, np.random.default_rng(seed))
        assert pair.shape == (4, 1, 3, 6)
        torch.testing.assert_close(pair[:2], x[..., 4:])  # the newest window, as labelled
        s = int(x[0, 0, 0, 4] - pair[2, 0, 0, 0])
        torch.testing.assert_close(pair[2:], x[..., 4 - s:10 - s])
        shifts.add(s)
    assert shifts == {1, 2, 3, 4}
    assert float(flicker_loss(torch.zeros(4, 5))) == 0.0
    apart = torch.cat([torch.full((2, 5), 10.0), torch.full((2, 5), -10.0)])
    assert float(flicker_loss(apart)) > 0.99
