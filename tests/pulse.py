"""A private PulseAudio server with a virtual microphone, for live-capture tests.

Recipe (DESIGN.md, platform facts): a null sink ``feed`` whose monitor is remapped into the
default source ``mic``; a client sets ``PULSE_SERVER`` and PortAudio reaches it through ALSA's
``pulse``/``default`` device. Audio flows only 1-2 s after the daemon answers, so callers wait
for real data. Stopped by PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

CONFIG = """\
load-module module-native-protocol-unix socket={socket} auth-anonymous=1
load-module module-null-sink sink_name=feed rate=48000 channels=1
load-module module-remap-source master=feed.monitor source_name=mic
set-default-source mic
set-default-sink feed
"""


class PulseServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="dreamengine-pulse-"))
        self.socket = self.dir / "native"
        self.config = self.dir / "server.pa"
        self.config.write_text(CONFIG.format(socket=self.socket))
        self.env = {**os.environ, "PULSE_SERVER": f"unix:{self.socket}", "HOME": str(self.dir),
                    "XDG_RUNTIME_DIR": str(self.dir), "XDG_CONFIG_HOME": str(self.dir)}
        self.restart()

    def restart(self) -> None:
        """Start the daemon (again, after it was stopped) on the same socket."""
        with open(self.dir / "log", "a") as log:
            self.proc = subprocess.Popen(
                ["pulseaudio", "--daemonize=no", "--system=no", "--use-pid-file=no",
                 "--exit-idle-time=-1", "--realtime=no", "--high-priority=no", "-n", "-F",
                 str(self.config)], env=self.env, stdout=subprocess.DEVNULL, stderr=log)
        self._wait_ready()

    @staticmethod
    def available() -> bool:
        return all(shutil.which(p) for p in ("pulseaudio", "pactl", "paplay"))

    def _wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ok = subprocess.run(["pactl", "info"], env=self.env, capture_output=True,
                                timeout=5, check=False).returncode == 0
            if ok:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        log = (self.dir / "log").read_text()[-2000:]
        self.stop()
        raise RuntimeError(f"pulseaudio did not start: {log}")

    def play(self, wav: Path) -> subprocess.Popen[bytes]:
        """Play ``wav`` into the virtual microphone, paced in real time."""
        return subprocess.Popen(["paplay", "-d", "feed", str(wav)], env=self.env)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
