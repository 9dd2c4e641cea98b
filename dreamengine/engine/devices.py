"""What a live show connects to outside itself: the audio input, the speakers, the OSC and MIDI
endpoints, and the process's stop signals. Each opener reports what it opened; an endpoint that
cannot open is reported and left out, so the show runs without it."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import Protocol

from dreamengine.audio import FileSource
from dreamengine.audio.file import AudioReader
from dreamengine.audio.live import LiveSource
from dreamengine.audio.player import FilePlayer
from dreamengine.controls.midi import MidiInput
from dreamengine.controls.osc import OscServer
from dreamengine.engine.config import EngineConfig
from dreamengine.engine.surface import LiveRequest
from dreamengine.errors import DreamengineError


class Stoppable(Protocol):
    running: bool


def open_source(config: EngineConfig, request: LiveRequest,
                say: Callable[[str], None]) -> FileSource | LiveSource:
    """The file to play, or the input device to record."""
    if request.input is not None:
        return FileSource(request.input, config.audio)
    source = LiveSource(config.audio, request.device)
    say(f"listening to {source.device.name!r} at {source.rate:g} Hz")
    return source


def start_player(request: LiveRequest, sr: int) -> FilePlayer:
    """``--play``: the input file on the speakers, decoded as it plays (flat memory), behind
    the picture by ``av_offset_ms``."""
    assert request.input is not None
    reader = AudioReader(request.input, sr)
    return FilePlayer(reader, max(request.av_offset_ms, 0.0) / 1000).start()


def open_osc(request: LiveRequest, say: Callable[[str], None]) -> OscServer | None:
    """The OSC endpoint asked for, or None (not asked for, or it cannot open: reported)."""
    if request.osc is None:
        return None
    try:
        osc = OscServer(*request.osc)
    except DreamengineError as exc:
        say(f"note: {exc}; going on without OSC")
        return None
    say(f"OSC: listening on {osc.host}:{osc.port} (/dreamengine/...)")
    return osc


def open_midi(request: LiveRequest, say: Callable[[str], None]) -> MidiInput | None:
    """The MIDI input asked for, or None (not asked for, or it cannot open: reported)."""
    if request.midi is None:
        return None
    try:
        midi = MidiInput(request.midi)
    except DreamengineError as exc:
        say(f"note: {exc}; going on without MIDI")
        return None
    say(f"MIDI: listening to {midi.name!r}")
    return midi


@contextlib.contextmanager
def stop_on_signals(loop: Stoppable, say: Callable[[str], None]) -> Iterator[None]:
    """Ctrl-C and SIGTERM end the show as ``/dreamengine/quit`` does: the loop finishes its
    frame, then the recording (video included) and the summary are completed. A second Ctrl-C
    while that happens interrupts at once."""

    def stop(signum: int, frame: object) -> None:
        if not loop.running:
            raise KeyboardInterrupt
        loop.running = False
        say(f"{signal.Signals(signum).name}: finishing the show (Ctrl-C again to abort)")

    try:
        old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: leave the signals alone
        old = {}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
