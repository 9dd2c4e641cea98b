"""Live capture for real: PortAudio recording a private PulseAudio virtual microphone.

Capture runs in child processes: PortAudio enumerates devices once per process, and each test
needs its own ``PULSE_SERVER``.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dreamengine.audio.synthetic import sine

sys.path.insert(0, str(Path(__file__).parent))
from pulse import PulseServer


@pytest.fixture
def pulse():
    if not PulseServer.available():
        if os.environ.get("CI"):
            pytest.fail("PulseAudio must be installed in CI (scripts/system-deps.sh)")
        pytest.skip("PulseAudio is not installed")
    server = PulseServer()
    yield server
    server.stop()


def child(code: str, env: dict[str, str], timeout: float = 90) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize(("from_sr", "to_sr"), [(48000, 16000), (44100, 16000), (8000, 16000)])
def test_live_resampling_is_the_file_paths_whatever_the_blocks(from_sr: int, to_sr: int) -> None:
    """The same samples as ``resample_poly`` on the whole signal (the file path's resampler),
    however the stream is cut, and only half a filter behind the input."""
    from scipy.signal import resample_poly

    from dreamengine.audio.resample import StreamResampler

    x = np.random.default_rng(0).standard_normal(from_sr).astype(np.float32)  # 1 s of noise
    r = StreamResampler(from_sr, to_sr)
    cuts = np.cumsum(np.random.default_rng(1).integers(1, 900, 200))
    parts = np.concatenate([r(piece) for piece in np.split(x, cuts[cuts < len(x)])])
    g = math.gcd(from_sr, to_sr)
    whole = resample_poly(x, to_sr // g, from_sr // g)
    assert (len(whole) - len(parts)) / to_sr <= 0.0015  # half the filter behind, at most
    np.testing.assert_allclose(parts, whole[: len(parts)], atol=2e-5)
    np.testing.assert_array_equal(StreamResampler(to_sr, to_sr)(x[:100]), x[:100])


def test_live_resampling_keeps_the_top_band_and_stops_what_would_fold_into_it() -> None:
    from dreamengine.audio.resample import StreamResampler

    def gain_db(f: float) -> float:
        t = np.arange(48000 * 2) / 48000
        y = StreamResampler(48000, 16000)(np.sin(2 * np.pi * f * t).astype(np.float32))
        return 20 * math.log10(np.sqrt(np.mean(y[4000:-4000] ** 2)) / math.sqrt(0.5))

    assert gain_db(7000) > -0.5 and gain_db(7500) > -2.5  # the top mel bands, as from a file
    assert gain_db(9000) < -28  # 9 kHz would alias onto 7 kHz


def test_no_input_device_lists_what_there_is(tmp_path: Path) -> None:
    env = {**os.environ, "PULSE_SERVER": f"unix:{tmp_path}/none", "HOME": str(tmp_path)}
    proc = child("""
        from dreamengine.audio.live import find_input_device
        from dreamengine.errors import DreamengineError
        try:
            find_input_device("no such microphone")
        except DreamengineError as exc:
            print("error:", exc)
    """, env)
    out, err = proc.communicate(timeout=60)
    assert "error: found no input device 'no such microphone'" in out, out + err
    assert "input devices" in out


CAPTURE = """
    import sys, time
    import numpy as np
    from dreamengine.audio import AudioConfig
    from dreamengine.audio.live import LiveSource
    source = LiveSource(AudioConfig(sr=16000))
    chunks, start = [], time.monotonic()
    while time.monotonic() - start < float(sys.argv[1]):
        chunks.append(source.read())
        time.sleep(0.02)
        for message in source.messages:
            print("message:", round(time.monotonic() - start, 1), message, flush=True)
        source.messages.clear()
    x = np.concatenate(chunks)
    np.save(sys.argv[2], x)
    print("overflows:", source.overflows)
    source.close()
"""


def capture(pulse: PulseServer, seconds: float, out: Path) -> subprocess.Popen[str]:
    """Record ``seconds`` from the virtual microphone into ``out`` (.npy) in a child process."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(CAPTURE), str(seconds),
                             str(out)], env=pulse.env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_tone_played_into_the_virtual_microphone_is_recorded(pulse: PulseServer,
                                                              tmp_path: Path) -> None:
    wav = tmp_path / "tone.wav"
    sf.write(wav, sine(440, 10.0, 48000, amplitude=0.5), 48000)
    player = pulse.play(wav)  # longer than the capture, whatever the start-up delays
    proc = capture(pulse, 3.5, tmp_path / "x.npy")
    out, err = proc.communicate(timeout=60)
    player.kill()
    assert proc.returncode == 0, err
    x = np.load(tmp_path / "x.npy")
    assert len(x) > 16000 and "overflows:" in out
    # audio flows 1-2 s after the server answers: judge the loudest half second
    blocks = x[: len(x) // 8000 * 8000].reshape(-1, 8000)
    loudest = blocks[np.argmax((blocks**2).mean(axis=1))]
    assert np.sqrt((loudest**2).mean()) > 0.1
    spectrum = np.abs(np.fft.rfft(loudest))
    assert abs(spectrum.argmax() * 16000 / len(loudest) - 440) <= 2


PLAY = """
    import sys, time
    from dreamengine.audio.file import AudioReader
    from dreamengine.audio.player import FilePlayer

    player = FilePlayer(AudioReader(sys.argv[1], 32000)).start()
    time.sleep(float(sys.argv[2]))
    player.stop()
    print("queued at most", player.max_queued_s)
"""


def test_a_long_file_plays_as_it_is_decoded(pulse: PulseServer, tmp_path: Path) -> None:
    """``live --play``: the file reaches the speakers (here the virtual sink the microphone
    listens to) while it is decoded; what is held in memory stays a few seconds, not the file."""
    wav = tmp_path / "long.wav"
    sf.write(wav, sine(440, 90.0, 48000, amplitude=0.5), 48000)  # a minute and a half
    player = subprocess.Popen([sys.executable, "-c", textwrap.dedent(PLAY), str(wav), "8"],
                              env=pulse.env, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    proc = capture(pulse, 3.5, tmp_path / "x.npy")
    _out, err = proc.communicate(timeout=60)
    played, perr = player.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert player.returncode == 0, perr
    x = np.load(tmp_path / "x.npy")
    blocks = x[: len(x) // 8000 * 8000].reshape(-1, 8000)
    loudest = blocks[np.argmax((blocks**2).mean(axis=1))]
    assert np.sqrt((loudest**2).mean()) > 0.1
    spectrum = np.abs(np.fft.rfft(loudest))
    assert abs(spectrum.argmax() * 16000 / len(loudest) - 440) <= 2
    queued = float(played.split("queued at most")[1])
    assert 0 < queued < 10  # the look-ahead plus one decoded block, never the 90 s file


@pytest.mark.slow
def test_a_vanished_device_gives_silence_then_reconnects(pulse: PulseServer,
                                                          tmp_path: Path) -> None:
    proc = capture(pulse, 9, tmp_path / "x.npy")
    time.sleep(3)
    pulse.proc.terminate()  # the device vanishes
    pulse.proc.wait(timeout=10)
    time.sleep(2)
    pulse.restart()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped; continuing on silence" in out and "reconnected" in out, out
    x = np.load(tmp_path / "x.npy")
    assert len(x) > 5 * 16000  # silence kept time while the device was gone


def long_tone(tmp_path: Path) -> Path:
    """A minute of 440 Hz at 48 kHz: longer than any show below."""
    wav = tmp_path / "tone.wav"
    sf.write(wav, sine(440, 60.0, 48000, amplitude=0.5), 48000)
    return wav


class Show:
    """``live --headless --record`` on the virtual microphone, its stderr lines time-stamped
    as they come (the notes are said when they happen)."""

    def __init__(self, pulse: PulseServer, rec: Path, seconds: float) -> None:
        self.rec = rec
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dreamengine", "live", "--headless", "--seconds", str(seconds),
             "--size", "64x36", "--record", str(rec)],
            env=pulse.env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append((time.monotonic(), line.rstrip()))

    def wait(self, timeout: float) -> None:
        """Until the show has exited and all it said is read."""
        self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)

    def levels(self) -> list[float]:
        path = self.rec / "frames.jsonl"
        text = path.read_text() if path.exists() else ""
        return [json.loads(line)["drive"]["level"] for line in text.splitlines()]

    def wait_until_heard(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not any(v > 0.5 for v in self.levels()[-20:]):
            assert self.proc.poll() is None, self.stderr()
            time.sleep(0.2)
        assert any(v > 0.5 for v in self.levels()[-20:]), "the show never heard the tone"

    def said(self, text: str) -> float | None:
        """When a stderr line containing ``text`` came (monotonic s), or None."""
        return next((t for t, line in self.lines if text in line), None)

    def stderr(self) -> str:
        return "\n".join(line for _, line in self.lines)


@pytest.mark.slow
def test_a_frozen_sound_server_is_noticed_and_never_blocks_the_end(pulse: PulseServer,
                                                                    tmp_path: Path) -> None:
    """The server stops answering mid-show (SIGSTOP: the stream stays 'active' and delivers
    nothing, and closing it would wait for ever): the show says so once, drifts on silence,
    still ends at --seconds with its summary, and the recording replays."""
    wav = long_tone(tmp_path)
    player = pulse.play(wav)
    show = Show(pulse, tmp_path / "rec", seconds=10)
    try:
        show.wait_until_heard()
        pulse.proc.send_signal(signal.SIGSTOP)
        show.wait(timeout=40)  # on the old code: for as long as the server stays frozen
    finally:
        pulse.proc.send_signal(signal.SIGKILL)
        pulse.proc.wait()
        show.proc.kill()
        player.kill()
    err = show.stderr()
    assert show.proc.returncode == 0, err
    assert "sent no audio" in err and "showed" in err and "recorded" in err, err
    assert err.count("continuing on silence") == 1, err
    levels = show.levels()
    assert max(levels[:len(levels) // 2]) > 0.5 and levels[-1] < 0.01  # heard, then drifted
    replayed = subprocess.run([sys.executable, "-m", "dreamengine", "replay",
                               str(tmp_path / "rec"), "--out", str(tmp_path / "again")],
                              capture_output=True, text=True, timeout=300, check=False)
    assert replayed.returncode == 0, replayed.stderr


@pytest.mark.slow
def test_a_killed_sound_server_is_rejoined_when_it_returns(pulse: PulseServer,
                                                             tmp_path: Path) -> None:
    """SIGKILL the server mid-show and start it again: the show goes on, rejoins the input
    within 4 s of the server's return and hears again."""
    wav = long_tone(tmp_path)
    player = pulse.play(wav)
    show = Show(pulse, tmp_path / "rec", seconds=14)
    try:
        show.wait_until_heard()
        pulse.proc.send_signal(signal.SIGKILL)
        pulse.proc.wait()
        time.sleep(2)
        pulse.restart()
        back = time.monotonic()
        player = pulse.play(wav)
        show.wait(timeout=60)
    finally:
        show.proc.kill()
        player.kill()
    err = show.stderr()
    assert show.proc.returncode == 0, err
    rejoined = show.said("reconnected")
    assert rejoined is not None and rejoined - back <= 4.0, err
    levels = show.levels()
    silent = levels.index(min(levels))
    assert max(levels[silent:]) > 0.5, "the show did not hear the input again"


@pytest.mark.slow
@pytest.mark.gl
def test_live_listens_to_the_microphone(pulse: PulseServer, tmp_path: Path, gl_ctx) -> None:
    wav = tmp_path / "tone.wav"
    sf.write(wav, sine(440, 6.0, 48000, amplitude=0.5), 48000)
    listed = subprocess.run([sys.executable, "-m", "dreamengine", "live", "--list-devices"],
                            env=pulse.env, capture_output=True, text=True, timeout=60, check=False)
    assert "pulse" in listed.stdout or "default" in listed.stdout, listed.stdout
    player = pulse.play(wav)
    proc = subprocess.run(
        [sys.executable, "-m", "dreamengine", "live", "--headless", "--seconds", "3",
         "--size", "64x36", "--record", str(tmp_path / "rec"), "--set",
         "prior.generator.width=64"],
        env=pulse.env, capture_output=True, text=True, timeout=120, check=False)
    player.kill()
    assert proc.returncode == 0, proc.stderr
    assert "listening to" in proc.stderr and "demo clip" not in proc.stderr
    lines = (tmp_path / "rec" / "frames.jsonl").read_text().splitlines()
    assert len(lines) > 10


@pytest.mark.slow
def test_a_siren_played_into_the_microphone_is_heard_as_siren(pulse: PulseServer,
                                                              tmp_path: Path) -> None:
    """The bundled demo clip has a siren from 3 s to 7 s: through the virtual microphone and
    the shipped classifier, siren must become the leading scene label while it sounds."""
    import torch

    from dreamengine.classifier import StreamingClassifier
    from dreamengine.engine import load_config
    from dreamengine.engine.build import SHIPPED_SOUND_CLASSIFIER, load_sound_model
    from dreamengine.features import StreamingLogMel
    from dreamengine.resources import demo_clip, priors_dir
    from dreamengine.vocabulary import SCENE_LABELS

    if not (priors_dir() / SHIPPED_SOUND_CLASSIFIER).is_file():
        pytest.skip("no trained sound classifier is shipped")
    player = pulse.play(demo_clip())
    proc = capture(pulse, 10, tmp_path / "x.npy")
    _, err = proc.communicate(timeout=90)
    player.kill()
    assert proc.returncode == 0, err
    config = load_config()
    model = load_sound_model(config, [])
    stream = StreamingClassifier(model, config.features.log_floor, torch.device("cpu"))
    probs = np.stack(stream.push(StreamingLogMel(config.features).push(np.load(tmp_path /
                                                                               "x.npy"))))
    siren = model.config.labels.index("siren")
    peak = int(probs[:, siren].argmax())
    assert probs[peak, siren] > 0.5
    scene = [model.config.labels.index(n) for n in SCENE_LABELS if n not in ("music", "siren")]
    assert probs[peak, siren] > probs[peak, scene].max()
