"""Where ``live`` shows its frames, and what it was asked to do: light enough to load before
torch, so a window can open and show a start-up picture within moments of the command.

The window (or the offscreen context) is opened here first: under X a glfw window must come
before any EGL context in the process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dreamengine.errors import DreamengineError

STARTING = ("dreamengine", "listening; the dream is loading ...")
LOADING_EVERY_S = 0.1  # s between redraws of the start-up picture while the dream loads


def loading_picture(size: tuple[int, int], lines: tuple[str, ...]) -> np.ndarray:
    """``lines`` in grey on black, centred on a ``size`` (W, H) picture: ``[H, W, 3]`` uint8."""
    from dreamengine.render.overlay import render_text

    w, h = size
    picture = np.zeros((max(h, 1), max(w, 1), 3), np.uint8)
    text = render_text(list(lines), font_px=max(14, h // 30))
    th, tw = min(text.shape[0], h), min(text.shape[1], w)
    y, x = (h - th) // 2, (w - tw) // 2
    alpha = text[:th, :tw, 3:4].astype(np.float32) / 255.0
    picture[y : y + th, x : x + tw] = (text[:th, :tw, :3] * alpha * 0.8).astype(np.uint8)
    return picture


@dataclass(frozen=True)
class LiveRequest:
    input: Path | None  # audio file played in real time; None: an input device
    size: tuple[int, int]  # window or offscreen size in pixels
    headless: bool = False
    record: Path | None = None  # session folder
    seconds: float | None = None  # stop after this long; None: at the end of the input
    fullscreen: bool = False
    monitor: int = 0
    max_fps: float = 60.0  # frame-rate cap (vsync is not guaranteed)
    record_fps: float = 30.0  # frames per second written while recording
    camera: Path | None = None  # v4l2loopback device
    device: str | None = None  # input device (index or part of its name); None: the default
    play: bool = False  # also play a file input to the speakers
    av_offset_ms: float = 0.0  # delay of the played audio behind the picture (ms)
    osc: tuple[str, int] | None = ("127.0.0.1", 9000)  # OSC host and port; None: no OSC
    midi: str | None = None  # MIDI input (part of its name); None: no MIDI
    midi_map: Path | None = None  # MIDI map file (read if present, written on /midi/save)
    presets: Path | None = None  # preset folder; None: ~/.config/dreamengine/presets
    preset_fade_s: float = 2.0  # s, glide of a recalled preset
    stats: Path | None = None  # append a JSON line of health figures every STATS_EVERY_S



class Surface:
    """Where frames go: a window (``glfw``) or nothing but the offscreen framebuffer."""

    def __init__(self, request: LiveRequest) -> None:
        self.window = None
        self._loading_shown = -float("inf")
        if request.headless:
            from dreamengine.render import create_headless_context

            self.ctx = create_headless_context()
        else:
            from dreamengine.render.window import Window, WindowConfig

            self.window = Window(request.size, WindowConfig(request.fullscreen, request.monitor))
            self.ctx = self.window.ctx

    @property
    def size(self) -> tuple[int, int] | None:
        return self.window.framebuffer_size if self.window else None

    @property
    def lost(self) -> bool:
        """The window's display server went away (the show then ends as if closed)."""
        return self.window is not None and self.window.lost

    def poll(self) -> tuple[list[str], bool]:
        if self.window is None:
            return [], False
        return self.window.poll(), self.window.should_close()

    def toggle_fullscreen(self) -> str | None:
        """Between windowed and fullscreen; why not, if it cannot (the monitor unplugged, a
        wrong ``--monitor``): the show goes on either way."""
        if self.window is None:
            return None
        try:
            self.window.toggle_fullscreen()
        except DreamengineError as exc:
            return str(exc)
        return None

    def loading(self, lines: tuple[str, ...] = STARTING) -> None:
        """Show the start-up picture now (a window only; offscreen there is nothing to show):
        the engine's name and what it is doing, on black, so a show has a frame on screen
        within moments of the start while torch, the networks and the dream process load."""
        if self.window is None:
            return
        now = time.monotonic()
        if now - self._loading_shown < LOADING_EVERY_S:
            return
        self._loading_shown = now
        self.window.poll()  # keeps the window answering its server while nothing else runs
        self.window.show_image(loading_picture(self.window.framebuffer_size, lines))

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
        else:
            self.ctx.release()
