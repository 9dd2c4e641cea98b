"""The dream worker in its own process: own interpreter, own GIL, lower scheduling priority.

Same interface as :class:`~.thread.DreamWorker` and the same loop (:func:`~.transport.serve`);
only the transport differs. Shared memory carries the request (the target vector, newest
overwrites) and the newest keyframe (image, state, score and counters behind one lock held only
for a copy), each laid out by the shapes the dream reports, whatever they are; queues carry
the rare commands and the child's reports. The render side never waits more than a couple of
milliseconds. A child that dies is restarted from the last published latent (each restart
reported, at most ``MAX_RESTARTS`` times); a child whose show was killed outright stops by
itself.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import time
from collections.abc import Callable, Mapping
from typing import Any

import torch

from dreamengine.dream.shared import (
    H_COARSE,
    H_DT,
    H_RENEWED,
    H_RESET,
    H_RESETS,
    H_SCORE,
    H_SEED,
    H_SEQ,
    H_STEP,
    H_TAKEN,
    H_TIME,
    ChildSide,
    Orphaned,
    Shared,
)
from dreamengine.dream.state import Dream, Keyframe
from dreamengine.dream.transport import (
    Commands,
    Published,
    as_target,
    request_vector,
    serve,
)
from dreamengine.errors import DreamengineError
from dreamengine.sampler import SamplerConfig

START_TIMEOUT_S = 120.0  # a cold interpreter importing torch on a loaded 2-core machine
MAX_RESTARTS = 3
NICE = 10  # the dream process's scheduling niceness (higher yields to the render loop)

def _child(shared: Shared, prior: Any, params: SamplerConfig, seed: int, device: str,
           h: torch.Tensor, noise_state: torch.Tensor, resets: int, min_interval: float,
           threads: int, canvas_px: int, step: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the show's to handle: it stops us
    os.nice(NICE)  # the render loop comes first: the dream takes the CPU it leaves
    torch.set_num_threads(threads)
    dream = Dream(prior, params, seed, torch.device(device), canvas_px)
    dream.restore(h)
    dream.noise.set_state(noise_state)
    dream.resets = resets
    dream.continue_at(seed, step)
    serve(dream, ChildSide(shared, lambda: dream.resets), Orphaned(shared.stop), min_interval)


class DreamProcess(Commands):
    """The sampler in its own process, with the same interface as :class:`DreamWorker`."""

    def __init__(self, dream: Dream, max_keyframes_per_s: float, threads: int = 1) -> None:
        self.dream = dream  # the starting state; the child owns the running one
        self.min_interval = 1.0 / max_keyframes_per_s
        self.threads = threads
        self._params, self._seed = dream.params, dream.seed
        self.errors: list[str] = []
        self.restarts = 0
        self._ctx = mp.get_context("spawn")
        self._shared = Shared(self._ctx, dream.labels, dream.image_shape, dream.latent_shape)
        self._a = self._shared.arrays()
        self._published: Published | None = None
        self._process: Any = None
        self._said: set[str] = set()
        self._next_check = 0.0
        self._stopping = False

    # -- life cycle

    def start(self, idle: Callable[[], None] | None = None) -> DreamProcess:
        """Start the process and return once its first keyframe is out (before the render loop
        runs, so the show never opens on an empty canvas); one that cannot start raises.
        ``idle`` is called every few milliseconds while waiting (the window's start-up
        picture and its events)."""
        self._spawn(self.dream.h.detach().cpu(), self.dream.noise.get_state(), 0,
                    self.dream.step)
        deadline = time.monotonic() + START_TIMEOUT_S
        while self.latest() is None:
            if not self._process.is_alive():
                self._drain_reports()
                raise DreamengineError(
                    f"the dream process failed to start (exit code {self._process.exitcode})"
                    + (f": {self.errors[-1]}" if self.errors else ""))
            if time.monotonic() > deadline:
                raise DreamengineError(
                    f"the dream process gave no keyframe within {START_TIMEOUT_S:g} s")
            if idle is not None:
                idle()
            time.sleep(0.01)
        return self

    def _spawn(self, h: torch.Tensor, noise_state: torch.Tensor, resets: int,
               step: int) -> None:
        d = self.dream
        self._process = self._ctx.Process(
            target=_child, name="dreamengine-dream", daemon=True,
            args=(self._shared, d.prior, self._params, self._seed, str(d.device), h, noise_state,
                  resets, self.min_interval, self.threads, d.canvas_px, step))
        self._process.start()

    def stop(self) -> None:
        self._stopping = True
        self._shared.stop.set()
        if self._process is not None:
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(timeout=2)
        self._drain_reports()
        self._close_queues()

    def _close_queues(self) -> None:
        for q in (self._shared.commands, self._shared.reports):
            q.cancel_join_thread()
            q.close()

    # -- the render loop's side (none of these wait on the sampler)

    @property
    def resets(self) -> int:
        return int(self._a["header"][H_RESETS])

    @property
    def requests_seen(self) -> int:
        return int(self._a["header"][H_TAKEN])

    @property
    def pid(self) -> int | None:
        """The dream process's id (its memory counts toward the engine's)."""
        return self._process.pid if self._process is not None else None

    def request(self, target: Mapping[str, float]) -> None:
        """Replace whatever request is pending with ``target``. Waits at most 2 ms: a child
        mid-copy (or one that died holding the lock, replaced here by :meth:`_watch`) leaves
        this frame's request unsent, and the next frame sends the newest again."""
        vector = request_vector(target, self._shared.labels, self._report)
        self._watch()
        if not self._shared.lock.acquire(timeout=0.002):
            return
        try:
            self._a["target"][...] = vector
            self._shared.target_seq.value += 1
        finally:
            self._shared.lock.release()

    def _command(self, name: str, value: object) -> None:
        # Kept here too, so that a restarted process starts from the current settings.
        if name == "params" and isinstance(value, SamplerConfig):
            self._params = value
        elif name == "rate" and isinstance(value, (int, float)) and value > 0:
            self.min_interval = 1.0 / value
        elif name == "reseed" and isinstance(value, int):
            self._seed = value
        self._shared.commands.put((name, value))

    def latest(self) -> Published | None:
        """The newest published keyframe (check ``seq`` to see whether it is new)."""
        self._watch()
        a = self._a
        if not self._shared.lock.acquire(timeout=0.002):
            return self._published  # the child is mid-copy: the next frame gets it
        try:
            seq = int(a["header"][H_SEQ])
            if seq == 0 or (self._published is not None and seq == self._published.seq):
                return self._published
            key = Keyframe(a["image"].copy(), a["latent"].copy(), float(a["header"][H_SCORE]),
                           bool(a["header"][H_RESET]), int(a["header"][H_STEP]),
                           float(a["header"][H_DT]), int(a["header"][H_SEED]),
                           bool(a["header"][H_RENEWED]), bool(a["header"][H_COARSE]))
            target = as_target(a["answered"], self._shared.labels)
            self._published = Published(seq, float(a["header"][H_TIME]), key, target)
        finally:
            self._shared.lock.release()
        return self._published

    def _watch(self) -> None:
        """Once a second: collect the child's reports; restart it if it died."""
        now = time.monotonic()
        if now < self._next_check or self._process is None:
            return
        self._next_check = now + 1.0
        self._drain_reports()
        if self._stopping or self._process.is_alive():
            return
        code = self._process.exitcode
        if self.restarts >= MAX_RESTARTS:
            self._report(f"the dream process ended (exit code {code}) {self.restarts + 1} times;"
                         " not restarting again: the canvas holds its last keyframe")
            return
        self.restarts += 1
        self._report(f"the dream process ended (exit code {code}); restarted it from the last "
                     f"keyframe's latent (restart {self.restarts} of at most {MAX_RESTARTS})")
        self._process = None
        self._drain_reports()
        self._close_queues()
        self._shared.renew(self._ctx)
        step = self.dream.step
        if self._published is not None:
            h = torch.from_numpy(self._published.keyframe.latent.copy())[None]
            step = self._published.keyframe.step + 1
        else:
            h = self.dream.h.detach().cpu()
        self._spawn(h, torch.Generator().manual_seed(self._seed + 1000 * self.restarts)
                    .get_state(), self.resets, step)

    def _drain_reports(self) -> None:
        while True:
            try:
                self._report(self._shared.reports.get_nowait())
            except (queue.Empty, OSError, ValueError):
                return

    def _report(self, message: str) -> None:
        if message not in self._said:
            self._said.add(message)
            self.errors.append(message)


