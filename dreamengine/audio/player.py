"""Playing a file on the speakers while it is decoded (``live --play``).

The output callback only copies from a queue that a feeder thread keeps a few seconds ahead, so a
3-hour set starts at once and takes no more memory than a song.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np

from dreamengine.audio.live import open_output_stream
from dreamengine.errors import DreamengineError

if TYPE_CHECKING:  # the reader's module loads scipy.signal
    from dreamengine.audio.file import AudioReader


PLAY_AHEAD_S = 2.0  # s of decoded audio the player keeps queued ahead of the speakers


class FilePlayer:
    """Plays a file on the default output device while it is decoded, so a 3-hour set starts
    at once and takes no more memory than a song: a feeder thread keeps about
    :data:`PLAY_AHEAD_S` of ``reader``'s blocks queued, and the output callback only copies
    from that queue (silence, counted as an underrun, if the feeder ever falls behind).
    ``delay_s`` of silence goes first (the picture's lead over the sound)."""

    def __init__(self, reader: AudioReader, delay_s: float = 0.0) -> None:
        self.reader = reader
        self.sr = reader.sr
        self.underruns = 0
        self.max_queued_s = 0.0  # the most audio ever queued (memory stays bounded by it)
        self._queue: deque[np.ndarray] = deque()
        self._queued = 0  # samples in the queue
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._fed_all = threading.Event()
        self._stream: Any = None
        self._thread = threading.Thread(target=self._feed, name="dreamengine-player",
                                        daemon=True)
        if delay_s > 0:
            self._push(np.zeros(round(delay_s * self.sr), np.float32))

    def start(self) -> FilePlayer:
        self._thread.start()
        try:
            self._stream = open_output_stream(self.sr, self._callback)
            self._stream.start()
        except Exception as exc:
            self.stop()
            raise DreamengineError(f"cannot play audio to the speakers: {exc}") from None
        return self

    def stop(self) -> None:
        """Silence the speakers, stop the feeder and close the file."""
        self._stop.set()
        if self._stream is not None:
            self._stream.abort()
            self._stream.close()
            self._stream = None
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.reader.close()

    def _push(self, block: np.ndarray) -> None:
        with self._lock:
            self._queue.append(block)
            self._queued += len(block)
            self.max_queued_s = max(self.max_queued_s, self._queued / self.sr)

    def _feed(self) -> None:
        try:
            for block in self.reader.blocks():
                while self._queued > PLAY_AHEAD_S * self.sr and not self._stop.is_set():
                    self._stop.wait(0.05)
                if self._stop.is_set():
                    return
                self._push(np.asarray(block, np.float32))
        except DreamengineError:  # a file that breaks off mid-way: play what came
            pass
        finally:
            self._fed_all.set()

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        out = outdata[:, 0]
        filled = 0
        with self._lock:
            while filled < frames and self._queue:
                block = self._queue[0]
                n = min(frames - filled, len(block))
                out[filled : filled + n] = block[:n]
                filled += n
                if n == len(block):
                    self._queue.popleft()
                else:
                    self._queue[0] = block[n:]
                self._queued -= n
        if filled < frames:
            out[filled:] = 0.0
            self.underruns += not self._fed_all.is_set()
