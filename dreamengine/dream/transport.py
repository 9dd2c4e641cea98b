"""How the render loop talks to a dream that runs beside it: the newest request wins.

The render loop calls :meth:`Transport.request` with the current target every frame and
:meth:`Transport.latest` to pick up a new keyframe; neither ever waits for the sampler. The
dream keeps stepping with the newest request it has, so the canvas evolves even while the
selection stands still. Live parameter changes (step sizes, rate, reset, re-seed) queue as
commands applied between keyframes, in order. A failed step or a non-finite state is reported
once and the dream goes on from its last good state.

The target travels as one fixed-order array (the dream's image classes, :attr:`Dream.labels`)
from :meth:`request` to :meth:`Dream.keyframe`; :func:`as_vector` and :func:`as_target`
convert at the two ends that speak in names (the selection and the recording).

Two transports run the same loop (:func:`serve`): :class:`~.thread.DreamWorker`, a thread
(cheap to start; tests and offline tools), and :class:`~.process.DreamProcess`, its own process
talking through shared memory (``live``: on a small CPU the render thread's GL calls hold the
GIL and would starve a thread).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from dreamengine.dream.state import Dream, Keyframe
from dreamengine.sampler import SamplerConfig

MAX_MOTION_S = 0.5  # a stalled worker's canvas moves at most this much time at once


@dataclass(frozen=True)
class Published:
    seq: int  # 1, 2, … in order of publication
    time: float  # time.monotonic() at publication (system-wide, so comparable across processes)
    keyframe: Keyframe
    target: dict[str, float]  # the request it answered


@functools.lru_cache(maxsize=8)
def _positions(labels: tuple[str, ...]) -> dict[str, int]:
    """Each label's place in a target vector (made once per label set: ``request`` runs every
    frame)."""
    return {name: i for i, name in enumerate(labels)}


def as_vector(target: Mapping[str, float], labels: tuple[str, ...]) -> np.ndarray:
    """``{"dog": 0.7}`` → ``[len(labels)]`` float64 in ``labels`` order; unknown names raise
    ``KeyError`` naming the class."""
    vector = np.zeros(len(labels))
    positions = _positions(labels)
    for name, weight in target.items():
        vector[positions[name]] = weight
    return vector


def request_vector(target: Mapping[str, float], labels: tuple[str, ...],
                   report: Callable[[str], None]) -> np.ndarray:
    """``target`` as the dream's fixed-order vector (what both transports' ``request`` sends);
    classes the dream does not know are reported (``report(message)``) and left out."""
    vector = np.zeros(len(labels))
    positions = _positions(labels)
    for name, weight in target.items():
        if name in positions:
            vector[positions[name]] = weight
        else:
            report(f"dream: unknown image class {name!r} ignored")
    return vector


def as_target(vector: np.ndarray, labels: tuple[str, ...]) -> dict[str, float]:
    """The non-zero entries of a target vector by class name (for records and overlays)."""
    return {n: float(w) for n, w in zip(labels, vector, strict=True) if w != 0.0}


class Transport(Protocol):
    """What the render loop sees of a running dream, whichever side of a process it is on."""

    errors: list[str]  # reports, each once, in order

    @property
    def resets(self) -> int: ...
    @property
    def pid(self) -> int | None: ...
    def request(self, target: Mapping[str, float]) -> None: ...
    def latest(self) -> Published | None: ...
    def set_params(self, params: SamplerConfig) -> None: ...
    def set_rate(self, keyframes_per_s: float) -> None: ...
    def reset(self) -> None: ...
    def reseed(self, seed: int) -> None: ...
    def stop(self) -> None: ...


class Stop(Protocol):
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


class Side(Protocol):
    """What the sampler loop sees of its transport."""

    def take(self) -> tuple[np.ndarray, int, list[tuple[str, object]]]: ...
    def publish(self, key: Keyframe, target: np.ndarray, taken: int) -> None: ...
    def report(self, message: str) -> None: ...


def serve(dream: Dream, side: Side, stop: Stop, min_interval: float) -> None:
    """Step ``dream`` toward the newest request until ``stop`` is set (the worker's loop)."""
    seen = 0
    taken = 0  # requests taken up (a burst between two keyframes counts once)
    last: float | None = None  # when the last keyframe's steps began
    # kinds of step failure reported: their messages differ (an OOM's byte count), so a step
    # that fails for hours would otherwise add a line per keyframe
    failed: set[str] = set()
    while not stop.is_set():
        started = time.perf_counter()
        dt = 0.0 if last is None else min(started - last, MAX_MOTION_S)
        last = started
        target, seq, commands = side.take()
        if seq != seen:
            taken, seen = taken + 1, seq
        for name, value in commands:
            min_interval = apply_command(dream, name, value, min_interval)
        try:
            key = dream.keyframe(target, dt)
        except Exception as exc:  # a broken step must not end the show
            if type(exc).__name__ not in failed:
                failed.add(type(exc).__name__)
                side.report(f"dream step failed: {exc!r}; continuing from the last good latent "
                            f"(later {type(exc).__name__} failures are not reported)")
            dream.back_to_last_good()
            stop.wait(min_interval)
            continue
        if key.reset:
            side.report("the dream's latent went non-finite; reset to the last good one "
                        "(reported once; the count is in the summary)")
        side.publish(key, target, taken)
        stop.wait(max(0.0, min_interval - (time.perf_counter() - started)))


def apply_command(dream: Dream, name: str, value: object, min_interval: float) -> float:
    """Carry out one queued command; returns the (possibly new) keyframe interval."""
    if name == "params" and isinstance(value, SamplerConfig):
        dream.params = value
    elif name == "rate" and isinstance(value, (int, float)) and value > 0:
        return 1.0 / value
    elif name == "reset":
        dream.reset()
    elif name == "reseed" and isinstance(value, int):
        dream.reseed(value)
    return min_interval


class Commands:
    """The command surface both transports share."""

    def _command(self, name: str, value: object) -> None:
        raise NotImplementedError

    def set_params(self, params: SamplerConfig) -> None:
        """New step sizes from the next keyframe on (never blocks)."""
        self._command("params", params)

    def set_rate(self, keyframes_per_s: float) -> None:
        self._command("rate", keyframes_per_s)

    def reset(self) -> None:
        """Back to the current seed's first latent."""
        self._command("reset", None)

    def reseed(self, seed: int) -> None:
        """A fresh latent from ``seed``."""
        self._command("reseed", seed)
