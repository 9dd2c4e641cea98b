"""Selection: frame-rate-independent smoothing, top-k with a floor, the class map."""

from pathlib import Path

import numpy as np
import pytest

from dreamengine.errors import DreamengineError
from dreamengine.resources import priors_dir
from dreamengine.selection import ClassMap, SelectionConfig, Selector, load_class_map
from dreamengine.vocabulary import LABELS

IDENTITY = ClassMap({name: ((name, 1.0),) for name in LABELS if name != "other"})


def vector(**probs: float) -> np.ndarray:
    v = np.zeros(len(LABELS), np.float32)
    for name, p in probs.items():
        v[LABELS.index(name)] = p
    return v


@pytest.mark.parametrize("dt", [0.001, 0.01, 0.0333, 0.1])
def test_smoothing_is_independent_of_step_size(dt: float) -> None:
    """Reaching time T by steps of dt gives the same value as the closed form 1 - exp(-T/tau)."""
    cfg = SelectionConfig(attack_s=0.2, release_s=1.0, confirm_s=0)
    sel = Selector(cfg, LABELS, IDENTITY)
    steps = round(0.6 / dt)
    for _ in range(steps):
        out = sel.update(vector(dog=1.0), dt)
    expected = 1 - np.exp(-steps * dt / 0.2)
    assert out.probs[LABELS.index("dog")] == pytest.approx(expected, rel=1e-4)


def test_attack_is_faster_than_release() -> None:
    sel = Selector(SelectionConfig(attack_s=0.1, release_s=1.0, confirm_s=0), LABELS, IDENTITY)
    up = sel.update(vector(dog=1.0), 0.1).probs[LABELS.index("dog")]
    down = 1.0 - sel.update(vector(dog=0.0), 0.1).probs[LABELS.index("dog")] / up
    assert up == pytest.approx(1 - np.exp(-1), rel=1e-5)
    assert down == pytest.approx(1 - np.exp(-0.1), rel=1e-4)


@pytest.mark.parametrize("dt", [0.01, 0.03, 0.05])
def test_a_held_class_shows_after_confirm_s_and_a_blip_does_not(dt: float) -> None:
    """With confirmation, a probability held for ``confirm_s`` lifts the smoothed value to it
    at once; before that, and for a one-hop blip, only the slow attack acts."""
    cfg = SelectionConfig(attack_s=1.0, release_s=1.0, confirm_s=0.1)
    dog = LABELS.index("dog")
    blip = Selector(cfg, LABELS, IDENTITY)
    for p in [0.0] * 5 + [0.9] + [0.0] * 10:
        out = blip.update(vector(dog=p), dt)
        assert out.probs[dog] < 0.2
    held = Selector(cfg, LABELS, IDENTITY)
    hops = [held.update(vector(dog=0.8 if i else 0.9), dt).probs[dog] for i in range(30)]
    first = next(i for i, p in enumerate(hops) if p >= 0.8 - 1e-6)
    assert first * dt == pytest.approx(0.1, abs=dt + 1e-9)  # confirmed after ~confirm_s
    assert max(hops[:first]) < 0.5  # the attack alone is far slower
    assert hops[-1] == pytest.approx(0.8, abs=1e-6)  # never above what was held (0.9 once)


def test_confirm_hits_lets_a_flickering_class_through_but_not_a_blip() -> None:
    """A class the classifier sees on every other hop (0.9, 0.1, 0.9, …) is never confirmed
    when every hop in the span must reach a value, and is at once confirmed at 0.9 when two of
    them must; a single one-hop blip is confirmed by neither."""
    dog = LABELS.index("dog")
    flicker = [0.0] * 6 + [0.9, 0.1] * 4
    blip = [0.0] * 6 + [0.9] + [0.0] * 7

    def peak(hits: int, raws: list[float]) -> float:
        sel = Selector(SelectionConfig(attack_s=10.0, release_s=10.0, confirm_s=0.12,
                                       confirm_hits=hits), LABELS, IDENTITY)
        return max(sel.update(vector(dog=p), 0.03).probs[dog] for p in raws)

    assert peak(0, flicker) < 0.15  # the attack alone, 10 s: about a tenth
    assert peak(2, flicker) == pytest.approx(0.9, abs=1e-6)
    assert peak(2, blip) < 0.15
    assert peak(0, blip) < 0.15
    assert peak(5, flicker) == pytest.approx(peak(0, flicker))  # more hits than the span: all
    assert peak(1, blip) == pytest.approx(peak(2, blip))  # one hop alone is never enough


@pytest.mark.parametrize("hits", [0, 2])
def test_confirmation_does_not_hold_up_a_sound_that_stopped(hits: int) -> None:
    """Needing some hops of the span, not all, must not keep a stopped sound up: the newest
    hop has to reach the value too, so the fall follows ``release_s`` at once."""
    sel = Selector(SelectionConfig(attack_s=0.1, release_s=2.0, confirm_s=0.12,
                                   confirm_hits=hits), LABELS, IDENTITY)
    dog = LABELS.index("dog")
    for _ in range(20):
        sel.update(vector(dog=1.0), 0.03)
    after = sel.update(vector(dog=0.0), 0.03).probs[dog]
    assert after == pytest.approx(np.exp(-0.03 / 2.0), rel=1e-4)


def test_confirmation_does_not_slow_a_fall() -> None:
    sel = Selector(SelectionConfig(attack_s=0.1, release_s=2.0, confirm_s=0.06), LABELS,
                   IDENTITY)
    dog = LABELS.index("dog")
    for _ in range(20):
        sel.update(vector(dog=1.0), 0.03)
    after = sel.update(vector(dog=0.0), 0.03).probs[dog]
    assert after == pytest.approx(np.exp(-0.03 / 2.0), rel=1e-4)


def test_top_k_floor_and_normalisation() -> None:
    sel = Selector(SelectionConfig(attack_s=0, release_s=0, top_k=2, floor=0.3), LABELS, IDENTITY)
    target = sel.update(vector(dog=0.9, bird=0.6, rain=0.5, siren=0.1), 0.03).target
    assert set(target) == {"dog", "bird"}
    assert sum(target.values()) == pytest.approx(1.0)
    assert target["dog"] == pytest.approx(0.9**2 / (0.9**2 + 0.6**2))  # temperature 0.5


def test_only_other_or_silence_drifts() -> None:
    sel = Selector(SelectionConfig(attack_s=0, release_s=0), LABELS, IDENTITY)
    assert sel.update(vector(other=0.95), 0.03).target == {}
    assert sel.update(vector(), 0.03).target == {}


def test_shipped_class_maps_cover_the_vocabulary() -> None:
    from dreamengine.models.centernet import CenterNetConfig
    from dreamengine.models.heatmap_head import HeatmapHead
    from dreamengine.models.vision import PATTERNS

    latent = load_class_map(priors_dir() / "class_map_latent.toml", LABELS, LABELS)
    assert latent.targets("other") == ()
    assert all(latent.targets(n) == ((n, 1.0),) for n in LABELS if n != "other")
    from dreamengine.models.imagenet_eye import read_class_names

    head = HeatmapHead.load(priors_dir() / "vision" / "head.pt").labels
    vision = CenterNetConfig().labels + head + PATTERNS
    alone = load_class_map(priors_dir() / "class_map_centernet.toml", LABELS, vision)
    assert alone.targets("other") == ()
    assert all(alone.targets(n) for n in LABELS if n != "other")  # every label is dreamed
    assert {name for name, _ in alone.targets("farm_animal")} == {"cow", "horse"}
    assert alone.targets("keys") == (("keyboard_instrument", 1.0),)  # the extra head's class
    imagenet = read_class_names(priors_dir() / "vision" / "imagenet_classes.txt")
    both = vision + tuple(f"imagenet:{n}" for n in imagenet)
    canvas = load_class_map(priors_dir() / "class_map.toml", LABELS, both)
    assert canvas.targets("other") == ()
    assert all(canvas.targets(n) for n in LABELS if n != "other")
    assert canvas.targets("dog") == (("dog", 1.0),)  # animals and people: CenterNet
    assert canvas.targets("rain") == (("imagenet:umbrella", 1.0),)  # judged: ImageNet's
    assert "pattern_music" not in dict(canvas.targets("music"))


@pytest.mark.parametrize(("text", "message"), [
    ("[woof]\ndog = 1.0\n", "unknown sound label"),
    ("[dog]\nwolf = 1.0\n", "unknown image class 'wolf'"),
    ("[dog]\ndog = -1\n", "weight >= 0"),
    ("dog = 1\n", "must be a table"),
])
def test_bad_class_maps_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "map.toml"
    path.write_text(text)
    with pytest.raises(DreamengineError, match=message):
        load_class_map(path, LABELS, LABELS)


def test_silence_below_the_gate_lets_the_dream_drift() -> None:
    # a dead microphone: the classifier says "tools" 0.68 of digital silence
    sel = Selector(SelectionConfig(), LABELS, IDENTITY)
    for _ in range(100):
        quiet = sel.update(vector(tools=0.68), 0.03, level_db=float("-inf"))
    assert quiet.target == {}
    for _ in range(30):
        heard = sel.update(vector(tools=0.68), 0.03, level_db=-20.0)
    assert heard.target == {"tools": 1.0}
    for _ in range(200):  # the input dies again: what was heard releases
        quiet = sel.update(vector(tools=0.68), 0.03, level_db=-80.0)
    assert quiet.target == {}


def test_level_of_silence_and_of_a_full_scale_sine() -> None:
    from dreamengine.engine.hearing import level_db

    assert level_db(np.zeros(480, np.float32)) == float("-inf")
    assert level_db(np.zeros(0, np.float32)) is None
    sine = np.sin(np.linspace(0, 200 * np.pi, 4800)).astype(np.float32)
    assert level_db(sine) == pytest.approx(-3.01, abs=0.02)
