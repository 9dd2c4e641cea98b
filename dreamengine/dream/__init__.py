"""The dream: one persistent state stepped toward what is heard, and the transports that run it
beside the render loop.

- :mod:`.state`: :class:`Dream` (the state, one keyframe at a time) and :class:`Keyframe`;
- :mod:`.transport`: the loop both transports run, the :class:`Transport` protocol and the
  target vector's conversions;
- :mod:`.thread` and :mod:`.process`: the two transports;
- :mod:`.sample`: offline samples from fresh states (``dreamengine sample``).
"""

from __future__ import annotations

from collections.abc import Callable

from dreamengine.dream.state import Dream, Keyframe
from dreamengine.dream.thread import DreamWorker
from dreamengine.dream.transport import Published, Transport
from dreamengine.errors import DreamengineError

__all__ = ["Dream", "DreamWorker", "Keyframe", "Published", "Transport", "start_worker"]


def start_worker(dream: Dream, max_keyframes_per_s: float, mode: str,
                 threads: int = 1, idle: Callable[[], None] | None = None) -> Transport:
    """The transport ``mode`` names (``"process"`` or ``"thread"``), started; a process is
    waited for until its first keyframe is out, calling ``idle`` (the start-up picture)
    meanwhile."""
    if mode == "process":
        from dreamengine.dream.process import DreamProcess

        return DreamProcess(dream, max_keyframes_per_s, threads).start(idle)
    if mode == "thread":
        return DreamWorker(dream, max_keyframes_per_s).start()
    raise DreamengineError(f"dream.worker must be process or thread, got {mode!r}")
