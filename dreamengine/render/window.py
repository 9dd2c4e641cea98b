"""The on-screen window: glfw (imported only here), fullscreen or windowed, with its own frame
clock. Call everything from the main thread: GL contexts must not cross threads.

Under X, create the window before any EGL context in the same process (the reverse aborts with
BadAccess on Mesa).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

import glfw
import moderngl
import numpy as np

from dreamengine.errors import DreamengineError
from dreamengine.render.passes import PresentPass

SPECIAL_KEYS = {
    glfw.KEY_ESCAPE: "escape", glfw.KEY_SPACE: "space", glfw.KEY_ENTER: "enter",
    glfw.KEY_TAB: "tab", glfw.KEY_F11: "f11", glfw.KEY_UP: "up", glfw.KEY_DOWN: "down",
    glfw.KEY_LEFT: "left", glfw.KEY_RIGHT: "right", glfw.KEY_BACKSPACE: "backspace",
}


@dataclass(frozen=True)
class WindowConfig:
    fullscreen: bool = False  # take a whole monitor
    monitor: int = 0  # which monitor, in glfw's order, when fullscreen
    vsync: bool = True  # wait for the display's refresh (not every server honours it)
    title: str = "dreamengine"


class Window:
    """A resizable OpenGL 3.3 core window that presents finished frames."""

    def __init__(self, size: tuple[int, int], config: WindowConfig) -> None:
        if not glfw.init():
            raise DreamengineError("cannot open a window: no display (is DISPLAY set?)")
        self.config = config
        self._windowed_size = size
        for hint, value in ((glfw.CONTEXT_VERSION_MAJOR, 3), (glfw.CONTEXT_VERSION_MINOR, 3),
                            (glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE),
                            (glfw.OPENGL_FORWARD_COMPAT, True), (glfw.RESIZABLE, True)):
            glfw.window_hint(hint, value)
        monitor = self._monitor() if config.fullscreen else None
        w, h = self._mode_size(monitor) if monitor else size
        self._handle = glfw.create_window(w, h, config.title, monitor, None)
        if not self._handle:
            glfw.terminate()
            raise DreamengineError("cannot open a window: the display refused an OpenGL 3.3 "
                                   "context")
        glfw.make_context_current(self._handle)
        glfw.swap_interval(1 if config.vsync else 0)
        self.ctx = moderngl.create_context(require=330)
        self._present = PresentPass(self.ctx)
        self._keys: list[str] = []
        glfw.set_key_callback(self._handle, self._on_key)
        self.lost = False  # the display server went away (see _outlive_the_display)
        self._on_lost = _IO_EXIT_HANDLER(self._display_lost)  # kept: X holds a pointer to it
        self._outlive_the_display()

    def _outlive_the_display(self) -> None:
        """When the X server goes away (killed, a VNC session ended), Xlib ends the process
        with exit(1) from inside ``poll_events``: no summary, a recording cut mid-write. Since
        libX11 1.7 a display can have its own exit handler instead: ours only notes the loss,
        so the show ends as a closed window does. Elsewhere (Wayland, older X) nothing changes."""
        try:
            display = glfw.get_x11_display()
            x11 = ctypes.CDLL("libX11.so.6")
            setter = x11.XSetIOErrorExitHandler
        except Exception:  # not X11, no libX11, or too old for the call
            return
        if not display:
            return
        setter.argtypes = [ctypes.c_void_p, _IO_EXIT_HANDLER, ctypes.c_void_p]
        setter.restype = None
        setter(display, self._on_lost, None)
        x11.XSetIOErrorHandler.argtypes = [_IO_ERROR_HANDLER]
        x11.XSetIOErrorHandler.restype = ctypes.c_void_p
        x11.XSetIOErrorHandler(_QUIET_IO_ERROR)  # the default one prints, then exits too

    def _display_lost(self, _display: object, _data: object) -> None:
        self.lost = True

    def _monitor(self) -> Any:  # a glfw monitor handle
        monitors = glfw.get_monitors() or []
        if not monitors:
            raise DreamengineError("no monitor found for fullscreen")
        if not 0 <= self.config.monitor < len(monitors):
            names = ", ".join(f"{i}: {glfw.get_monitor_name(m)}" for i, m in enumerate(monitors))
            raise DreamengineError(f"no monitor {self.config.monitor}; monitors are {names}")
        return monitors[self.config.monitor]

    @staticmethod
    def _mode_size(monitor: Any) -> tuple[int, int]:
        mode = glfw.get_video_mode(monitor)
        if mode is None:  # unplugged between the listing and now
            raise DreamengineError(f"monitor {glfw.get_monitor_name(monitor)} reports no mode")
        return mode.size.width, mode.size.height

    def _on_key(self, _window: object, key: int, scancode: int, action: int, mods: int) -> None:
        if action not in (glfw.PRESS, glfw.REPEAT):
            return
        name = SPECIAL_KEYS.get(key) or glfw.get_key_name(key, scancode)
        if name:
            shifted = bool(mods & glfw.MOD_SHIFT) and len(name) == 1
            name = name.upper() if shifted else name
            self._keys.append(f"ctrl+{name}" if mods & glfw.MOD_CONTROL else name)

    @property
    def framebuffer_size(self) -> tuple[int, int]:
        w, h = glfw.get_framebuffer_size(self._handle)
        return max(w, 1), max(h, 1)

    def should_close(self) -> bool:
        return self.lost or bool(glfw.window_should_close(self._handle))

    def poll(self) -> list[str]:
        """Process window events; returns the keys pressed since the last call."""
        glfw.poll_events()
        keys, self._keys = self._keys, []
        return keys

    def present(self, frame: moderngl.Texture) -> None:
        """Draw ``frame`` to the whole window and swap buffers (nothing once the display is
        gone)."""
        if self.lost:
            return
        screen = self.ctx.screen
        screen.viewport = (0, 0, *self.framebuffer_size)
        self._present.run(screen, frame)
        glfw.swap_buffers(self._handle)

    def show_image(self, rgb: np.ndarray) -> None:
        """Present ``rgb`` ``[H, W, 3]`` uint8 (row 0 = top) over the whole window: a still
        shown before the renderer exists (the start-up picture)."""
        h, w = rgb.shape[:2]
        texture = self.ctx.texture((w, h), 3, np.ascontiguousarray(rgb, np.uint8).tobytes())
        try:
            self.present(texture)
        finally:
            texture.release()

    def toggle_fullscreen(self) -> None:
        if glfw.get_window_monitor(self._handle):
            w, h = self._windowed_size
            glfw.set_window_monitor(self._handle, None, 64, 64, w, h, 0)  # type: ignore[arg-type]
        else:
            self._windowed_size = glfw.get_window_size(self._handle)
            monitor = self._monitor()
            w, h = self._mode_size(monitor)
            glfw.set_window_monitor(self._handle, monitor, 0, 0, w, h, glfw.DONT_CARE)

    def close(self) -> None:
        self._present.release()
        if self.lost:  # every call would talk to a server that is gone
            return
        glfw.destroy_window(self._handle)
        glfw.terminate()


_IO_EXIT_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_IO_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
_QUIET_IO_ERROR = _IO_ERROR_HANDLER(lambda _display: 0)  # the exit handler decides
