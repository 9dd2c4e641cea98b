"""The shared memory between the render loop and the dream process: the request vector, the
newest keyframe and its counters, a stop flag. Each buffer is laid out by the shapes the dream
reports (any keyframe size, any state shape); one lock guards the keyframe, held only for a
copy."""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from dreamengine.dream.state import Keyframe

# the keyframe header's slots
(H_SEQ, H_TIME, H_SCORE, H_RESET, H_RESETS, H_TAKEN, H_STEP, H_DT, H_SEED, H_RENEWED,
 H_COARSE) = range(11)


class Flag:
    """A stop flag in shared memory. (``multiprocessing.Event`` can deadlock its setter when a
    waiting process was killed; a polled flag cannot.)"""

    def __init__(self, ctx: Any) -> None:
        self.value = ctx.RawValue("b", 0)

    def set(self) -> None:
        self.value.value = 1

    def is_set(self) -> bool:
        return bool(self.value.value)

    def wait(self, timeout: float | None = None) -> bool:
        deadline = time.monotonic() + (timeout or 0.0)
        while not self.is_set() and time.monotonic() < deadline:
            time.sleep(min(0.005, max(0.0, deadline - time.monotonic())))
        return self.is_set()


class Orphaned(Flag):
    """The child's view of the stop flag: also set once the render process is gone (killed
    outright, it never sets the flag), so a dream process never outlives its show."""

    def __init__(self, flag: Flag) -> None:
        self.value, self.parent = flag.value, os.getppid()

    def is_set(self) -> bool:
        return bool(self.value.value) or os.getppid() != self.parent


class Shared:
    """The shared memory both sides map: the request vector, the keyframe buffers, counters."""

    def __init__(self, ctx: Any, labels: tuple[str, ...], image_shape: tuple[int, ...],
                 latent_shape: tuple[int, ...]) -> None:
        self.labels, self.image_shape, self.latent_shape = labels, image_shape, latent_shape
        self.target = ctx.RawArray("d", len(labels))
        self.target_seq = ctx.RawValue("q", 0)
        self.header = ctx.RawArray("d", H_COARSE + 1)
        self.answered = ctx.RawArray("d", len(labels))
        self.latent = ctx.RawArray("f", int(np.prod(latent_shape)))
        self.image = ctx.RawArray("B", int(np.prod(image_shape)))
        self.stop = Flag(ctx)
        self.renew(ctx)

    def renew(self, ctx: Any) -> None:
        """Fresh lock and queues: a killed process may have died holding the old ones."""
        self.lock = ctx.Lock()
        self.commands = ctx.Queue()
        self.reports = ctx.Queue()

    def arrays(self) -> dict[str, np.ndarray]:
        return {"target": np.frombuffer(self.target, np.float64),
                "header": np.frombuffer(self.header, np.float64),
                "answered": np.frombuffer(self.answered, np.float64),
                "latent": np.frombuffer(self.latent, np.float32).reshape(self.latent_shape),
                "image": np.frombuffer(self.image, np.uint8).reshape(self.image_shape)}


class ChildSide:
    """The dream process's end of :class:`Shared`."""

    def __init__(self, shared: Shared, resets: Callable[[], int]) -> None:
        self.shared, self.resets = shared, resets
        self.a = shared.arrays()
        self.said: set[str] = set()

    def take(self) -> tuple[np.ndarray, int, list[tuple[str, object]]]:
        with self.shared.lock:
            vector = self.a["target"].copy()
            seq = int(self.shared.target_seq.value)
        commands = []
        while True:
            try:
                commands.append(self.shared.commands.get_nowait())
            except queue.Empty:
                break
        return vector, seq, commands

    def publish(self, key: Keyframe, target: np.ndarray, taken: int) -> None:
        a = self.a
        with self.shared.lock:
            a["image"][...] = key.image
            a["latent"][...] = key.latent
            a["answered"][...] = target
            a["header"][H_SEQ] += 1
            slots = [H_TIME, H_SCORE, H_RESET, H_RESETS, H_TAKEN, H_STEP, H_DT, H_SEED, H_RENEWED,
                     H_COARSE]
            a["header"][slots] = (time.monotonic(), key.score, float(key.reset), self.resets(),
                                  taken, key.step, key.dt, key.seed, float(key.renewed),
                                  float(key.coarse))

    def report(self, message: str) -> None:
        if message not in self.said:
            self.said.add(message)
            self.shared.reports.put(message)
