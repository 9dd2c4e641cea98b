"""``StageTimer``: bounded memory over a long show, exact counts, whole-run percentiles."""

from __future__ import annotations

import numpy as np

from dreamengine.engine.timing import StageTimer


def test_timer_keeps_everything_until_full() -> None:
    timer = StageTimer(keep=10)
    for ms in range(1, 6):
        timer.add("frame", float(ms))
    assert list(timer.values("frame")) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert timer.summary()["frame"] == {"n": 5, "median_ms": 3.0, "p90_ms": 4.6, "total_ms": 15.0}
    assert len(timer.values("missing")) == 0
    with timer.stage("work"):
        pass
    assert timer.summary()["work"]["n"] == 1


def test_timer_memory_is_bounded_and_percentiles_cover_the_whole_run() -> None:
    timer = StageTimer(keep=2000, seed=1)
    # a long show whose first half is fast and second half slow: a "last N" buffer would
    # report only the slow half; a uniform sample reports the mix.
    for ms in np.concatenate([np.full(50_000, 10.0), np.full(50_000, 20.0)]):
        timer.add("frame", float(ms))
    kept = timer.values("frame")
    assert len(kept) == 2000
    assert 0.4 < float(np.mean(kept == 10.0)) < 0.6
    summary = timer.summary()["frame"]
    assert summary["n"] == 100_000 and summary["total_ms"] == 1_500_000.0


def test_a_render_makes_its_keyframes_on_the_clock_without_drift() -> None:
    """30 keyframes/s at 60 fps: one every second frame for ten minutes, never two at once
    (summing 1/30 ten thousand times drifts off the clock's k·dt)."""
    from types import SimpleNamespace

    from dreamengine.clock import FixedStepClock
    from dreamengine.engine.pipeline import SteppedDream

    key = SimpleNamespace(image=None, latent=None, step=0, dt=0.0, seed=0, reset=False,
                          renewed=False, coarse=False)
    dream = SimpleNamespace(keyframe=lambda target, dt: key)
    stepped = SteppedDream(dream, 30.0)  # type: ignore[arg-type]
    inputs = SimpleNamespace(target={}, sampler={})
    clock, timer, counts = FixedStepClock(1 / 60), StageTimer(), []
    for _ in range(60 * 600):
        counts.append(len(stepped.due(clock.now(), inputs, timer)))  # type: ignore[arg-type]
        clock.tick()
    assert counts[:4] == [1, 0, 1, 0] and counts[::2] == [1] * 18000 and sum(counts) == 18000
