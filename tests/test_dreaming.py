"""The dreaming capability: fast path, steering, spatial blend, live controls, the worker."""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pytest
import torch

from dreamengine.audio.synthetic import noise
from dreamengine.controls.bus import ControlError, Controls, check_config_fields, describe
from dreamengine.dream.state import Dream
from dreamengine.dream.thread import DreamWorker
from dreamengine.engine.config import EngineConfig, load_config
from dreamengine.errors import DreamengineError
from dreamengine.features import Drive, Dynamics, DynamicsConfig, MelConfig, StreamingLogMel
from dreamengine.models import ImagePrior
from dreamengine.render import RenderConfig, frame_params
from dreamengine.sampler import (
    PPGNSampler,
    SamplerConfig,
    class_log_prob,
    regional_log_prob,
    regions,
    spatial_parts,
    target_vector,
)
from dreamengine.sampler.objectives import crop
from dreamengine.selection import ClassMap, SelectionConfig, Selector
from dreamengine.vocabulary import LABELS

SR = 16000
IDENTITY = ClassMap({name: ((name, 1.0),) for name in LABELS if name != "other"})


# --- the fast path -------------------------------------------------------------------------

def onset_times(samples: np.ndarray, config: DynamicsConfig | None = None) -> list[float]:
    """Times (s, end of the analysis frame) at which onsets fire, one frame at a time."""
    mel = StreamingLogMel(MelConfig())
    dyn = Dynamics(config or DynamicsConfig(), MelConfig())
    frames = mel.push(samples)
    out = []
    for i, frame in enumerate(frames):
        if dyn.push(frame[None]).onsets:
            out.append(i * 0.01 + 0.032)
    return out


def test_onsets_find_hits_in_noise_and_not_in_steady_noise() -> None:
    rng = np.random.default_rng(0)
    x = 0.01 * rng.standard_normal(4 * SR).astype(np.float32)
    hits = [0.3 + 0.45 * k for k in range(8)]
    for h in hits:  # short noise bursts 20 dB over the floor
        i = int(h * SR)
        x[i : i + 800] += (0.1 * rng.standard_normal(800) * np.exp(-np.arange(800) / 200))
    found = onset_times(x)
    assert len(found) == len(hits)
    assert all(0.0 <= f - h <= 0.045 for f, h in zip(found, hits, strict=True))
    assert len(onset_times(noise(10.0, SR, amplitude=0.3, seed=1))) <= 1  # steady: rare


def test_kick_drums_under_a_tone_are_onsets() -> None:
    t = np.arange(4 * SR) / SR
    x = 0.1 * np.sin(2 * np.pi * 220 * t) + noise(4.0, SR, amplitude=0.01, seed=3)
    kicks = [0.4 + 0.45 * k for k in range(8)]
    for k in kicks:  # 60 Hz thumps: only the bass band rises
        i, n = int(k * SR), 6000
        decay = np.exp(-np.arange(n) / 600)
        x[i : i + n] += 0.3 * np.sin(2 * np.pi * 60 * np.arange(n) / SR) * decay
    found = onset_times(x.astype(np.float32))
    assert len(found) == len(kicks)
    assert all(0.0 <= f - k <= 0.045 for f, k in zip(found, kicks, strict=True))


def test_levels_follow_loudness_and_bands() -> None:
    cfg = MelConfig()
    t = np.arange(2 * SR) / SR

    def drive_of(x: np.ndarray) -> Drive:
        dyn = Dynamics(DynamicsConfig(), cfg)
        return dyn.push(StreamingLogMel(cfg).push(x.astype(np.float32)))

    loud_then_quiet = np.concatenate([0.5 * np.sin(2 * np.pi * 100 * t),
                                      0.005 * np.sin(2 * np.pi * 100 * t)])
    low = drive_of(0.5 * np.sin(2 * np.pi * 100 * t))
    high = drive_of(0.5 * np.sin(2 * np.pi * 4000 * t))
    quiet = drive_of(loud_then_quiet)
    assert low.bass > 0.8 and low.treble < 0.3
    assert high.treble > 0.8 and high.bass < 0.3
    assert 0.0 < quiet.level < low.level - 0.5  # 40 dB down against the remembered peak
    assert drive_of(np.zeros(SR)) == Drive()  # digital silence: nothing moves


def test_pulse_decays_on_audio_time_whatever_the_block_size() -> None:
    rng = np.random.default_rng(2)
    x = 0.01 * rng.standard_normal(SR).astype(np.float32)
    x[int(0.5 * SR) : int(0.5 * SR) + 400] += 0.5
    results = []
    for block in (160, 533, 1600):
        mel, dyn = StreamingLogMel(MelConfig()), Dynamics(DynamicsConfig(), MelConfig())
        drive = Drive()
        for i in range(0, len(x), block):
            drive = dyn.push(mel.push(x[i : i + block]))
        results.append(drive.pulse)
    assert results[0] > 0 and np.allclose(results, results[0])


def test_drive_reaches_the_frame_params() -> None:
    cfg = RenderConfig()
    still = frame_params(cfg, 1.0, 1 / 60)
    beat = frame_params(cfg, 1.0, 1 / 60, Drive(level=1.0, bass=1.0, treble=1.0, pulse=1.0))
    assert still.pulse == 0.0 and beat.pulse == pytest.approx(cfg.pulse_scale)
    assert beat.zoom > still.zoom > 1.0  # bass speeds the zoom
    assert beat.brightness > still.brightness
    assert beat.saturation > still.saturation
    off = dataclasses.replace(cfg, pulse_scale=0.0, pulse_brightness=0.0, bass_zoom=0.0,
                              level_brightness=0.0, treble_saturation=0.0)
    moved = frame_params(off, 1.0, 1 / 60, Drive(level=1.0, bass=1.0, treble=1.0, pulse=1.0))
    assert moved == frame_params(off, 1.0, 1 / 60)


@pytest.mark.gl
def test_pulse_swells_the_picture(gl_ctx) -> None:
    from dreamengine.render import Renderer

    renderer = Renderer(gl_ctx, (64, 64), 16, RenderConfig(crossfade_s=0.0))
    try:
        key = np.zeros((16, 16, 3), np.uint8)
        key[6:10, 6:10] = 255  # a white square in the middle
        renderer.push_keyframe(key, 0.0)
        base = frame_params(RenderConfig(keyframe_tau_s=0.0, crossfade_s=0.0), 0.0, 0.0)
        renderer.render(base)
        plain = renderer.read().astype(int)
        renderer.render(dataclasses.replace(base, pulse=0.5))
        swollen = renderer.read().astype(int)
    finally:
        renderer.release()
    assert (swollen[..., 0] > 128).sum() > 1.5 * (plain[..., 0] > 128).sum()


# --- steering ------------------------------------------------------------------------------

def vector(**probs: float) -> np.ndarray:
    v = np.zeros(len(LABELS), np.float32)
    for name, p in probs.items():
        v[LABELS.index(name)] = p
    return v


def test_weights_pins_mutes_and_temperature() -> None:
    base = SelectionConfig(attack_s=0, release_s=0, top_k=3, floor=0.3)
    heard = vector(dog=0.8, bird=0.4, speech=0.9)

    def target(**changes: object) -> dict[str, float]:
        sel = Selector(dataclasses.replace(base, **changes), LABELS, IDENTITY)
        return sel.update(heard, 0.03).target

    plain = target()
    assert set(plain) == {"dog", "bird", "speech"}
    muted = target(mutes=("speech",))
    assert set(muted) == {"dog", "bird"}  # speech gives up its top-k slot too
    weighted = target(weights=("bird:4",))
    assert weighted["bird"] > weighted["dog"] and plain["bird"] < plain["dog"]
    pinned = target(pins=("siren",), mutes=("speech", "dog", "bird"))
    assert pinned == {"siren": 1.0}
    sharp, flat = target(temperature=0.25), target(temperature=4.0)
    assert sharp["speech"] > plain["speech"] > flat["speech"]
    for t in (plain, muted, weighted, sharp, flat):
        assert sum(t.values()) == pytest.approx(1.0)
    silent = Selector(dataclasses.replace(base, pins=("rain",)), LABELS, IDENTITY)
    assert silent.update(vector(), 0.03).target == {"rain": 1.0}  # a pin dreams in silence


def test_a_label_with_alternatives_dreams_one_at_a_time() -> None:
    vehicles = ClassMap({"engine": (("car", 0.5), ("bus", 0.3), ("train", 0.2)),
                         "dog": (("dog", 1.0),)})
    config = SelectionConfig(attack_s=0, release_s=0, confirm_s=0, top_k=3, floor=0.3,
                             keep_choice_s=0.0, hold_s=0.0)

    def episodes(seed: int, blend: bool = False) -> list[dict[str, float]]:
        sel = Selector(dataclasses.replace(config, blend_alternatives=blend), LABELS, vehicles,
                       seed=seed)
        out = []
        for _ in range(12):  # heard for three hops, then silence, again and again
            held = [sel.update(vector(engine=0.9, dog=0.4), 0.03).target for _ in range(3)]
            assert held[0] == held[1] == held[2]  # the choice holds while the label is heard
            out.append(held[0])
            assert sel.update(vector(), 0.03).target == {}
        return out

    chosen = episodes(seed=3)
    for target in chosen:
        vehicle = [k for k in target if k != "dog"]
        assert len(vehicle) == 1 and vehicle[0] in ("car", "bus", "train")
        assert target[vehicle[0]] > target["dog"]
    assert len({k for t in chosen for k in t if k != "dog"}) >= 2  # drawn anew each time
    assert episodes(seed=3) == chosen  # deterministic for a seed (render and tests)
    blended = episodes(seed=3, blend=True)[0]
    assert set(blended) == {"car", "bus", "train", "dog"}


def test_a_sound_that_comes_and_goes_keeps_its_picture() -> None:
    animals = ClassMap({"farm_animal": (("horse", 0.5), ("cow", 0.5))})
    config = SelectionConfig(attack_s=0, release_s=0, confirm_s=0, floor=0.3, keep_choice_s=2.0,
                             hold_s=0.0)
    for seed in range(6):
        sel = Selector(config, LABELS, animals, seed=seed)
        seen = set()
        for _ in range(8):  # moos with 1 s pauses: one animal all along
            seen |= set(sel.update(vector(farm_animal=0.9), 0.1).target)
            for _ in range(10):
                assert sel.update(vector(), 0.1).target == {}
        assert len(seen) == 1
    drawn = set()
    for seed in range(6):  # pauses longer than keep_choice_s: drawn anew on return
        sel = Selector(config, LABELS, animals, seed=seed)
        for _ in range(4):
            drawn |= set(sel.update(vector(farm_animal=0.9), 0.1).target)
            for _ in range(25):
                sel.update(vector(), 0.1)
    assert drawn == {"horse", "cow"}
    muted = Selector(config, LABELS, animals, seed=0)
    first = set(muted.update(vector(farm_animal=0.9), 0.1).target)
    muted.retune(dataclasses.replace(config, mutes=tuple(first)))  # muting the kept class
    assert set(muted.update(vector(farm_animal=0.9), 0.1).target) == {"horse", "cow"} - first


def test_a_pause_keeps_the_last_target_then_the_dream_drifts() -> None:
    config = SelectionConfig(attack_s=0, release_s=0, confirm_s=0, floor=0.3, hold_s=1.0)
    sel = Selector(config, LABELS, IDENTITY)
    heard = sel.update(vector(dog=0.9, bird=0.5), 0.1).target
    assert set(heard) == {"dog", "bird"}
    pause = [sel.update(vector(), 0.1).target for _ in range(12)]
    assert pause[:10] == [heard] * 10 and pause[11] == {}  # held 1 s, then drift
    sel.update(vector(dog=0.9, bird=0.5), 0.1)
    sel.retune(dataclasses.replace(config, mutes=("dog",)))
    assert sel.update(vector(), 0.1).target == {"bird": 1.0}  # a muted class is not held


def test_bad_class_weights_are_named() -> None:
    with pytest.raises(DreamengineError, match="'dog=2'"):
        load_config(overrides={"selection.weights": "dog=2"})
    with pytest.raises(DreamengineError, match="temperature"):
        load_config(overrides={"selection.temperature": "0"})
    assert load_config(overrides={"selection.weights": "dog:2,bird:0.5"}).selection.weights == (
        "dog:2", "bird:0.5")


# --- the sampler's spatial blend -------------------------------------------------------------

def test_regions_cover_the_canvas() -> None:
    for n in (1, 2, 3, 4):
        boxes = regions(n)
        assert len(boxes) == n
        covered = np.zeros((16, 16), bool)
        for x, y, w, h in boxes:
            assert x >= 0 and y >= 0 and x + w <= 1 + 1e-9 and y + h <= 1 + 1e-9
            covered[round(y * 16) : round((y + h) * 16), round(x * 16) : round((x + w) * 16)] = True
        assert covered.mean() >= 0.6
    image = torch.arange(2 * 3 * 16 * 16, dtype=torch.float32).reshape(2, 3, 16, 16)
    assert crop(image, (0.0, 0.0, 0.5, 0.5), 8).equal(image[:, :, :8, :8])
    assert crop(image, (0.5, 0.5, 0.5, 0.5), 16).shape == (2, 3, 16, 16)


def test_spatial_blend_puts_each_class_in_its_region(prior: ImagePrior) -> None:
    labels = prior.labels
    weights = target_vector({"dog": 0.5, "bird": 0.5}, labels)
    parts = spatial_parts(weights)
    assert len(parts) == 2 and sorted(float(w.sum()) for w, _ in parts) == [0.5, 0.5]
    objective = regional_log_prob(prior.condition, parts, size=16)
    sampler = PPGNSampler(prior.generator, prior.prior.score)
    params = SamplerConfig(eps1=0.0, eps3=0.0, lr=0.05)
    h0 = h = PPGNSampler.initial_latent(16, seed=5, clip=params.clip)

    def region_log_p(h: torch.Tensor, weights: torch.Tensor, box) -> float:
        with torch.no_grad():
            image = prior.generator(h)
            return float(class_log_prob(prior.condition, weights)(crop(image, box, 16)))

    before = [region_log_p(h0, w, box) for w, box in parts]
    for _ in range(30):
        h = sampler.step(h, objective, params).h
    after = [region_log_p(h, w, box) for w, box in parts]
    assert all(a > b for a, b in zip(after, before, strict=True))  # each region gains its class
    assert float(objective(prior.generator(h)).detach()) > float(
        objective(prior.generator(h0)).detach())


def test_dream_uses_the_spatial_objective_when_asked(prior: ImagePrior) -> None:
    dream = Dream(prior, SamplerConfig(spatial=True), seed=0, device=torch.device("cpu"))
    image = prior.generator(dream.h)
    mixed = class_log_prob(prior.condition, target_vector({"dog": 0.5, "bird": 0.5}, LABELS))
    spatial = dream.objective({"dog": 0.5, "bird": 0.5})
    assert spatial is not None and not torch.allclose(spatial(image), mixed(image))
    single = dream.objective({"dog": 1.0})
    only_dog = class_log_prob(prior.condition, target_vector({"dog": 1.0}, LABELS))
    assert single is not None and torch.allclose(single(image), only_dog(image))
    assert dream.objective({}) is None


# --- the control bus -------------------------------------------------------------------------

def test_controls_check_and_log_every_change() -> None:
    controls = Controls(EngineConfig(), LABELS)
    assert controls.set("sampler.eps2", "2.5", source="osc", t=3.0) == 2.5
    assert controls.sampler.eps2 == 2.5
    controls.set("sampler.steps_per_keyframe", 4.0)
    assert controls.sampler.steps_per_keyframe == 4
    controls.set("weight.dog", 3)
    controls.set("pin.rain", "on")
    controls.set("mute.speech", True)
    controls.set("mute.speech", False)
    sel = controls.selection
    assert sel.weights == ("dog:3",) and sel.pins == ("rain",) and sel.mutes == ()
    assert controls.get("weight.dog") == 3.0 and controls.get("pin.rain") is True
    controls.act("reseed")
    assert controls.seed == EngineConfig().dream.seed + 1
    for name, value, message in [
        ("sampler.eps9", 1, "unknown control 'sampler.eps9'"),
        ("sampler.eps1", 99, r"within 0\.\.5"),
        ("sampler.eps1", float("nan"), "within"),
        ("sampler.eps1", "lots", "takes a number"),
        ("sampler.steps_per_keyframe", 2.5, "whole number"),
        ("render.overlay", "maybe", "on/off"),
        ("weight.wolf", 1, "unknown class in 'weight.wolf'"),
    ]:
        with pytest.raises(ControlError, match=message):
            controls.set(name, value)
    with pytest.raises(ControlError, match="unknown action"):
        controls.act("explode")
    log = controls.drain()
    assert log[0] == {"t": 3.0, "control": "sampler.eps2", "value": 2.5, "source": "osc"}
    assert len(log) == 7 and controls.drain() == []
    assert controls.take_dirty() == {"sampler", "selection"}
    state = controls.state()
    assert state["sampler.eps2"] == 2.5 and state["selection.pins"] == ["rain"]


def test_every_config_field_has_a_control() -> None:
    exempt = {"render.canvas_px", "render.upscale", "selection.weights", "selection.pins",
              "selection.mutes"}  # sizes need a rebuild; the lists go through weight./pin./mute.
    assert set(check_config_fields()) == exempt
    assert {row["name"] for row in describe()} >= {"sampler.eps1", "weight.LABEL"}


# --- the worker ------------------------------------------------------------------------------

def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_worker_takes_live_parameters_reset_and_reseed(prior: ImagePrior) -> None:
    dream = Dream(prior, SamplerConfig(steps_per_keyframe=1), seed=0, device=torch.device("cpu"))
    start = dream.h.clone()
    worker = DreamWorker(dream, max_keyframes_per_s=500).start()
    try:
        worker.set_params(SamplerConfig(steps_per_keyframe=3, eps3=0.2))
        wait_for(lambda: dream.params.steps_per_keyframe == 3)
        worker.reseed(7)
        wait_for(lambda: dream.seed == 7)
        worker.reset()
        seq = worker.latest().seq
        wait_for(lambda: worker.latest().seq > seq + 2)
    finally:
        worker.stop()
    assert not torch.equal(dream.h, start)
    assert dream.params.eps3 == 0.2
    fresh = Dream(prior, SamplerConfig(), seed=7, device=torch.device("cpu"))
    dream.reset()
    assert torch.equal(dream.h, fresh.h)


def test_worker_reports_a_nan_once_and_never_publishes_it(prior: ImagePrior) -> None:
    dream = Dream(prior, SamplerConfig(steps_per_keyframe=1), seed=0, device=torch.device("cpu"))
    real_step = dream.sampler.step
    calls = {"n": 0}

    def poisoned(h, objective, params, noise=None):
        calls["n"] += 1
        result = real_step(h, objective, params, noise)
        if calls["n"] % 3 == 0:  # every third step explodes
            return dataclasses.replace(result, h=torch.full_like(result.h, math.nan))
        return result

    dream.sampler.step = poisoned  # type: ignore[method-assign]
    worker = DreamWorker(dream, max_keyframes_per_s=500).start()
    try:
        wait_for(lambda: worker.latest() is not None and worker.latest().seq >= 12)
        images = [worker.latest().keyframe for _ in range(1)]
    finally:
        worker.stop()
    assert dream.resets >= 3
    assert len(worker.errors) == 1 and "non-finite" in worker.errors[0]
    assert all(np.isfinite(k.latent).all() for k in images)


def test_a_target_vector_dreams_exactly_what_the_names_dream(prior: ImagePrior) -> None:
    from dreamengine.dream.transport import as_target, as_vector

    labels = prior.labels
    target = {labels[1]: 0.7, labels[3]: 0.3}
    vector = as_vector(target, labels)
    assert vector.shape == (len(labels),) and as_target(vector, labels) == target
    by_name = Dream(prior, SamplerConfig(), seed=3, device=torch.device("cpu"))
    by_vector = Dream(prior, SamplerConfig(), seed=3, device=torch.device("cpu"))
    for _ in range(3):
        a, b = by_name.keyframe(target), by_vector.keyframe(vector)
    assert np.array_equal(a.latent, b.latent) and np.array_equal(a.image, b.image)
    with pytest.raises(ValueError, match="weights"):
        by_vector.keyframe(np.zeros(len(labels) + 1))
    with pytest.raises(KeyError):
        as_vector({"unicorn": 1.0}, labels)


def test_the_process_transport_lays_out_any_shape() -> None:
    import multiprocessing as mp

    from dreamengine.dream.shared import Shared

    shared = Shared(mp.get_context("spawn"), ("a", "b", "c"), (24, 40, 3), (3, 8, 5))
    arrays = shared.arrays()
    assert arrays["image"].shape == (24, 40, 3) and arrays["latent"].shape == (3, 8, 5)
    assert arrays["target"].shape == (3,)
    arrays["latent"][2, 7, 4] = 1.5  # the last number of the buffer is reachable
    assert np.frombuffer(shared.latent, np.float32)[-1] == 1.5


def test_the_thread_transport_carries_the_target_as_a_vector(prior: ImagePrior) -> None:
    dream = Dream(prior, SamplerConfig(), seed=0, device=torch.device("cpu"))
    worker = DreamWorker(dream, max_keyframes_per_s=500)
    worker.request({prior.labels[2]: 1.0, "unicorn": 1.0})
    target, seq, commands = worker.take()
    assert isinstance(target, np.ndarray) and target[2] == 1.0 and target.sum() == 1.0
    assert seq == 1 and commands == []
    assert worker.errors == ["dream: unknown image class 'unicorn' ignored"]
