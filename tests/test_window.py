"""The glfw window under Xvfb: it opens, presents frames the right way up, and closes cleanly.

Each case runs in a child process: a process that already holds an EGL context (the GL test
fixture) must not open a glfw window on X.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

PRESENT = textwrap.dedent("""
    import numpy as np
    from dreamengine.render.passes import make_texture
    from dreamengine.render.window import Window, WindowConfig

    window = Window((64, 48), WindowConfig(vsync=False))
    assert window.framebuffer_size == (64, 48), window.framebuffer_size
    image = np.zeros((48, 64, 3), np.uint8)
    image[:24] = (255, 0, 0)   # top half red
    image[24:] = (0, 0, 255)   # bottom half blue
    tex = make_texture(window.ctx, (64, 48), dtype="f1", components=3)
    tex.write(image.tobytes())
    window.present(tex)
    window.ctx.finish()
    screen = np.frombuffer(window.ctx.screen.read(components=3, alignment=1), np.uint8)
    screen = screen.reshape(48, 64, 3)   # GL rows: bottom first
    assert (screen[0] == (0, 0, 255)).all() and (screen[-1] == (255, 0, 0)).all()
    assert window.poll() == [] and not window.should_close()
    window.close()
    print("ok")
""")


def run_child(code: str, display: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DISPLAY": display}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=timeout, check=False)


def test_window_presents_upright(xvfb_display: str) -> None:
    proc = run_child(PRESENT, xvfb_display)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def test_no_display_is_a_clear_error(tmp_path) -> None:
    code = textwrap.dedent("""
        from dreamengine.errors import DreamengineError
        from dreamengine.render.window import Window, WindowConfig
        try:
            Window((64, 48), WindowConfig())
        except DreamengineError as exc:
            print("error:", exc)
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert "error: cannot open a window" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.slow
def test_live_in_a_window_records_and_replays_exactly(xvfb_display: str, clip, tmp_path) -> None:
    session = tmp_path / "session"
    cmd = [sys.executable, "-m", "dreamengine", "live", "--input", str(clip), "--seconds", "1.5",
           "--size", "160x90", "--record", str(session), "--set", "render.overlay=true",
           "--set", "prior.generator.width=64"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False,
                          env={**os.environ, "DISPLAY": xvfb_display})
    assert proc.returncode == 0, proc.stderr
    assert "recorded" in proc.stderr and "Traceback" not in proc.stderr
    replay = subprocess.run([sys.executable, "-m", "dreamengine", "replay", str(session),
                             "--out", str(tmp_path / "again"), "--quiet"],
                            capture_output=True, text=True, timeout=180, check=False)
    assert replay.returncode == 0, replay.stderr
    import numpy as np
    from PIL import Image

    recorded = sorted(session.glob("frame_*.png"))
    replayed = sorted((tmp_path / "again").glob("frame_*.png"))
    assert len(recorded) >= 5 and len(replayed) == len(recorded)
    for a, b in zip(recorded, replayed, strict=True):
        np.testing.assert_array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b)))


@pytest.mark.slow
def test_a_display_that_goes_away_ends_the_show_with_its_summary(clip, tmp_path) -> None:
    """Xvfb killed mid-show: Xlib would exit(1) at once (no summary, a recording cut off);
    the show says so, finishes the recording and prints its summary, exit 0."""
    import json
    import shutil
    import signal
    import time

    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed")
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "640x480x24",
                             "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        display = ":" + f.readline().strip()
    session = tmp_path / "session"
    show = subprocess.Popen([sys.executable, "-m", "dreamengine", "live", "--input", str(clip),
                             "--seconds", "60", "--size", "96x54", "--record", str(session),
                             "--osc", "off"], env={**os.environ, "DISPLAY": display},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and show.poll() is None and not (
                session / "frames.jsonl").is_file():
            time.sleep(0.2)
        time.sleep(1.0)
        xvfb.send_signal(signal.SIGKILL)
        xvfb.wait(timeout=10)
        _out, err = show.communicate(timeout=60)
    finally:
        show.kill()
        xvfb.kill()
    assert show.returncode == 0, err
    assert "the display went away" in err and "showed" in err and "recorded" in err, err
    lines = (session / "frames.jsonl").read_text().splitlines()
    assert lines and all(json.loads(line)["index"] >= 0 for line in lines)


@pytest.mark.slow
def test_live_shows_a_picture_before_torch_loads(xvfb_display: str, clip) -> None:
    """The window opens and shows the start-up picture before torch is even imported, and keeps
    showing it while the dream process starts (item 11 of the venue issue: a frame within 2 s,
    while the dream is still loading)."""
    code = textwrap.dedent(f"""
        import sys
        from dreamengine.render import window

        seen = []
        show_image = window.Window.show_image

        def spy(self, rgb):
            seen.append("torch" in sys.modules)
            return show_image(self, rgb)

        window.Window.show_image = spy
        from dreamengine.cli import main

        rc = main(["live", "--input", {str(clip)!r}, "--seconds", "0.5", "--size", "160x90",
                   "--osc", "off", "--quiet"])
        print("rc", rc, "pictures", len(seen), "first before torch", not seen[0])
    """)
    proc = run_child(code, xvfb_display, timeout=180)
    assert "rc 0" in proc.stdout and "first before torch True" in proc.stdout, (
        proc.stdout + proc.stderr)
    pictures = int(proc.stdout.split("pictures ")[1].split()[0])
    assert pictures >= 2  # redrawn while the networks and the dream process load
