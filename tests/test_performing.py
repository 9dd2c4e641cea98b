"""Performing: OSC, MIDI maps and learn mode, presets with soft recall, the console's guards."""

from __future__ import annotations

import contextlib
import json
import math
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

from dreamengine.cli import main
from dreamengine.controls.bus import ControlError, Controls
from dreamengine.controls.console import Console
from dreamengine.controls.midi import MidiInput, MidiMap
from dreamengine.controls.osc import OscServer, parse, send_message
from dreamengine.controls.presets import preset_path, read_preset
from dreamengine.engine.config import EngineConfig
from dreamengine.errors import DreamengineError
from dreamengine.vocabulary import LABELS


def console(tmp_path: Path, said: list[str] | None = None) -> Console:
    out = said if said is not None else []
    return Console(Controls(EngineConfig(), LABELS), tmp_path / "presets",
                   midi_map_path=tmp_path / "midi.toml", say=out.append)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_messages(server: OscServer, n: int, timeout: float = 5.0):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        got += server.drain()
        time.sleep(0.01)
    return got


def test_osc_sets_queries_and_survives_garbage(tmp_path: Path) -> None:
    said: list[str] = []
    con = console(tmp_path, said)
    server = OscServer("127.0.0.1", 0)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.settimeout(2.0)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
            raw.sendto(b"not osc at all", ("127.0.0.1", server.port))
            # ",f" with its 4 data bytes missing: python-osc would read 0.0 and stop the dream
            raw.sendto(b"/dreamengine/sampler/eps2\0\0\0,f\0\0", ("127.0.0.1", server.port))
        for address, args in [("/dreamengine/sampler/eps2", (2.0,)),
                              ("/dreamengine/weight/dog", (3,)),
                              ("/dreamengine/pin/rain", (1,)),
                              ("/dreamengine/sampler/eps2", (99.0,)),  # out of range
                              ("/dreamengine/sampler/eps2", (99.0,)),  # said only once
                              ("/dreamengine/nonsense/deep/path", ()),
                              ("/dreamengine/render/overlay", ("maybe",)),
                              ("/elsewhere/x", (1,)),
                              ("/dreamengine/reseed", ())]:
            b = OscMessageBuilder(address=address)
            for a in args:
                b.add_arg(a)
            client.sendto(b.build().dgram, ("127.0.0.1", server.port))
        messages = wait_messages(server, 9)
        assert len(messages) == 9
        for m in messages:
            assert con.osc(m.address, m.args, m.sender, t=1.0) == []
        assert server.bad_packets == 2
        c = con.controls
        assert c.sampler.eps2 == 2.0 and c.get("weight.dog") == 3.0
        assert c.selection.pins == ("rain",)
        assert c.take_actions() == ["reseed"]
        assert con.ignored == 5
        assert sum("sampler.eps2" in s for s in said) == 1  # the repeat was not logged again
        assert any("/dreamengine/nonsense" in s for s in said)
        log = c.drain()
        assert [x["control"] for x in log] == ["sampler.eps2", "weight.dog", "pin.rain", "reseed"]
        assert all(x["source"] == "osc" for x in log)

        # queries answer the sender
        me = client.getsockname()
        for to, address, args in con.osc("/dreamengine/get/sampler/eps2", (), me, 2.0):
            server.send(to, address, *args)
        assert parse(client.recv(4096)) == [("/dreamengine/sampler/eps2", (2.0,))]
        replies = con.osc("/dreamengine/state", (), me, 2.0)
        assert replies[-1][1] == "/dreamengine/state/done"
        assert ("/dreamengine/render/zoom_per_s", (pytest.approx(1.04),)) in [
            (a, tuple(v)) for _, a, v in replies]
        # subscribers hear every change
        con.osc("/dreamengine/subscribe", (), me, 3.0)
        con.controls.set("render.hue_deg", 45.0, source="key", t=3.0)
        for to, address, args in con.change_replies(con.controls.drain()):
            server.send(to, address, *args)
        assert parse(client.recv(4096)) == [("/dreamengine/render/hue_deg", (45.0,))]
    finally:
        client.close()
        server.close()


def test_no_client_can_end_the_show_or_flood_its_console(tmp_path: Path) -> None:
    said: list[str] = []
    con = console(tmp_path, said)
    me = ("127.0.0.1", 9)
    for port in (70000, -1, 0):
        con.osc("/dreamengine/subscribe", (port,), me, 0.0)
    assert con.subscribers == set() and con.ignored == 3
    for port in range(1, 40):
        con.osc("/dreamengine/subscribe", (port,), me, 0.0)
    assert len(con.subscribers) == 32  # the rest refused
    server = OscServer("127.0.0.1", 0)
    try:
        server.send(("127.0.0.1", 70000), "/dreamengine/x", 1.0)  # an unusable address: ignored
    finally:
        server.close()
    said.clear()
    for k in range(200):  # a fader sweeping out-of-range values: a new complaint each time
        con.osc("/dreamengine/sampler/eps2", (100.0 + k,), me, 1.0)
    assert 1 <= len(said) <= 10 and con.ignored == 3 + 7 + 200
    answered = [con.osc("/dreamengine/state", (), me, 1.5) for _ in range(20)]
    assert sum(bool(r) for r in answered) == 4 and con.ignored == 3 + 7 + 200 + 16
    con.frame(1.6)
    assert con.osc("/dreamengine/state", (), me, 1.6)  # a new frame answers again
    con.save_preset("calm")
    for fade in (math.inf, math.nan, -1.0):
        con.osc("/dreamengine/preset/load", ("calm", fade), me, 2.0)
    assert con.fade is None and con.ignored == 229
    from dreamengine.selection.selector import class_weights

    with pytest.raises(ValueError, match="finite"):  # --set selection.weights, presets
        class_weights(("dog:inf",))


def test_osc_port_in_use_is_a_clear_error() -> None:
    server = OscServer("127.0.0.1", 0)
    try:
        taken = f"cannot listen for OSC on 127.0.0.1:{server.port}"
        with pytest.raises(DreamengineError, match=taken):
            OscServer("127.0.0.1", server.port)
    finally:
        server.close()


def test_preset_save_and_soft_recall(tmp_path: Path) -> None:
    con = console(tmp_path)
    c = con.controls
    c.set("render.zoom_per_s", 1.5)
    c.set("sampler.steps_per_keyframe", 4)
    c.set("weight.dog", 2)
    c.set("mute.speech", True)
    path = con.save_preset("warm")
    assert path == tmp_path / "presets" / "warm.toml"
    assert read_preset(path)["render.zoom_per_s"] == 1.5
    c.set("render.zoom_per_s", 1.0)
    c.set("sampler.steps_per_keyframe", 1)
    c.set("weight.dog", 1)
    c.set("weight.bird", 5)
    c.set("mute.speech", False)
    c.drain()
    con.load_preset("warm", t=10.0, fade_s=2.0)
    assert c.sampler.steps_per_keyframe == 4  # switches and whole numbers change at once
    assert c.selection.weights == ("dog:2",) and c.selection.mutes == ("speech",)
    assert c.render.zoom_per_s == 1.0  # numbers glide
    con.frame(11.0)
    assert c.render.zoom_per_s == pytest.approx(1.25)  # halfway on the smooth step
    con.frame(11.5)
    assert 1.25 < c.render.zoom_per_s < 1.5
    con.frame(12.1)
    assert con.fade is None and c.render.zoom_per_s == 1.5
    log = c.drain()
    assert log[0]["control"] in ("sampler.steps_per_keyframe", "weight.bird", "weight.dog",
                                 "mute.speech")
    assert any(x["control"] == "preset" and x["value"] == "warm" for x in log)
    assert all(x["source"].startswith("preset") or x["control"] == "preset" for x in log)
    c.set("render.zoom_per_s", 1.0)
    con.load_preset("warm", t=20.0, fade_s=0.0)
    con.frame(20.0)
    assert c.render.zoom_per_s == 1.5  # a cut


def test_bad_presets_change_nothing(tmp_path: Path) -> None:
    said: list[str] = []
    con = console(tmp_path, said)
    folder = tmp_path / "presets"
    folder.mkdir()
    (folder / "broken.toml").write_text("[render]\nzoom_per_s = 99.0\nhue_deg = 10.0\n")
    (folder / "alien.toml").write_text("[render]\nwarp = 1.0\n")
    before = con.controls.state()
    con.key("1", t=0.0)  # no preset "1" yet
    con.osc("/dreamengine/preset/load", ("broken",), ("127.0.0.1", 1), 0.0)
    con.osc("/dreamengine/preset/load", ("alien",), ("127.0.0.1", 1), 0.0)
    con.osc("/dreamengine/preset/load", ("../etc/passwd",), ("127.0.0.1", 1), 0.0)
    con.frame(5.0)
    assert con.controls.state() == before and con.ignored == 4
    assert any("no preset '1'" in s for s in said)
    assert any("render.zoom_per_s must be within" in s for s in said)
    assert any("unknown parameter 'render.warp'" in s for s in said)
    with pytest.raises(ControlError):
        preset_path(folder, "../x")
    con.key("ctrl+3", t=0.0)
    assert (folder / "3.toml").is_file()


def test_midi_learn_scale_save_and_load(tmp_path: Path) -> None:
    con = console(tmp_path)
    con.osc("/dreamengine/midi/learn", ("sampler.eps2",), ("127.0.0.1", 1), 0.0)
    con.midi(channel=1, control=21, value=127, t=1.0)  # the knob that moves gets bound
    assert con.controls.sampler.eps2 == 10.0  # the top of ε2's range
    con.midi(1, 21, 0, 1.1)
    assert con.controls.sampler.eps2 == 0.0
    con.midi(1, 22, 64, 1.2)  # unbound: nothing
    con.midi_map.learn("render.overlay")
    con.midi(2, 7, 100, 1.3)
    assert con.controls.render.overlay is True
    con.midi_map.learn("sampler.steps_per_keyframe")
    con.midi(2, 8, 64, 1.4)
    assert con.controls.sampler.steps_per_keyframe == round(1 + 63 * 64 / 127)
    con.osc("/dreamengine/midi/save", (), ("127.0.0.1", 1), 1.5)
    loaded = MidiMap.load(tmp_path / "midi.toml")
    assert loaded.bindings == {(1, 21): "sampler.eps2", (2, 7): "render.overlay",
                               (2, 8): "sampler.steps_per_keyframe"}
    assert [x["source"] for x in con.controls.drain()] == ["midi"] * 4
    (tmp_path / "bad.toml").write_text('[[cc]]\nchannel = 17\ncontroller = 1\ncontrol = "x"\n')
    with pytest.raises(DreamengineError, match="bad.toml: entry 1"):
        MidiMap.load(tmp_path / "bad.toml")
    with pytest.raises(ControlError):
        con.midi_map.learn("sampler.warp")
    for bad in ('preset.a"b', "preset.calm\n[x]", "preset.", "preset.../up"):
        with pytest.raises(ControlError):  # it would be written into the TOML map
            con.midi_map.learn(bad)
    with pytest.raises(ControlError):
        preset_path(tmp_path, "calm\n")


def test_midi_pads_trigger_actions_and_presets_once_per_press(tmp_path: Path) -> None:
    con = console(tmp_path)
    con.midi_map.learn("reseed")
    con.midi(1, 64, 127, 0.0)  # the pad that is pressed gets bound, and the press counts
    con.midi(1, 64, 0, 0.1)  # release: nothing
    con.midi(1, 64, 127, 0.2)
    con.midi_map.learn("reset")
    con.midi(1, 65, 127, 0.3)
    con.midi(1, 65, 127, 0.4)  # a pad that only ever sends 127: every press counts
    assert con.controls.take_actions() == ["reseed", "reseed", "reset", "reset"]

    con.controls.set("sampler.eps2", 2.0)
    con.save_preset("calm")
    con.controls.set("sampler.eps2", 6.0)
    con.midi_map.learn("preset.calm")
    con.midi(1, 32, 127, 1.0)
    con.frame(1.0 + con.preset_fade_s + 0.1)
    assert con.controls.sampler.eps2 == 2.0
    with pytest.raises(ControlError):
        con.midi_map.learn("quit")  # a stray pad must not end the show


def test_the_example_midi_map_loads_and_names_real_controls() -> None:
    path = Path(__file__).resolve().parent.parent / "docs" / "examples" / "nanokontrol2.toml"
    bindings = MidiMap.load(path).bindings
    assert len(bindings) >= 20
    con = console(Path("/nonexistent"))
    for name in bindings.values():  # every knob and fader names a settable control
        if not (name.startswith("preset.") or name in ("reseed", "reset", "record")):
            con.controls.set(name, con.controls.get(name))


def test_osc_command_says_when_nobody_answers(capsys) -> None:
    to = f"127.0.0.1:{free_port()}"
    assert main(["osc", "/dreamengine/state", "--to", to, "--wait", "0.2"]) == 1
    assert "no reply from 127.0.0.1" in capsys.readouterr().err
    assert main(["osc", "/dreamengine/reseed", "--to", to, "--wait", "0"]) == 0  # not a query
    assert main(["osc", "/dreamengine/sampler/eps2", "2", "--to", to, "--wait", "0"]) == 1
    assert "nothing at 127.0.0.1" in capsys.readouterr().err  # a set nobody confirmed


def test_osc_command_refuses_foreign_addresses_and_unknown_hosts(capsys) -> None:
    to = f"127.0.0.1:{free_port()}"
    assert main(["osc", "/synth/volume", "--to", to, "--wait", "0"]) == 2
    assert "outside dreamengine's space" in capsys.readouterr().err
    assert main(["osc", "/dreamengine/reseed", "--to", "no-such-host.invalid:9000"]) == 2
    assert "cannot resolve OSC host 'no-such-host.invalid'" in capsys.readouterr().err


def test_light_commands_do_not_import_torch() -> None:
    code = ("import sys, dreamengine.cli, dreamengine.controls.osc; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
    heavy = ("torch", "scipy.signal", "scipy.fft")  # `config`, --list-devices: none is needed
    for command in (["config"], ["live", "--list-devices"]):
        code = ("import sys; from dreamengine.cli import main; main(sys.argv[1:]); "
                f"sys.exit(1 if [m for m in {heavy!r} if m in sys.modules] else 0)")
        done = subprocess.run([sys.executable, "-c", code, *command], capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0, (command, done.stderr)


def test_missing_midi_input_lists_what_there_is() -> None:
    with pytest.raises(DreamengineError, match="no MIDI input matches 'no such controller'"):
        MidiInput("no such controller")


@pytest.mark.slow
@pytest.mark.gl
def test_live_takes_osc_while_running(clip: Path, tmp_path: Path, gl_ctx, capsys) -> None:
    out, port = tmp_path / "rec", free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dreamengine", "live", "--headless", "--input", str(clip),
         "--seconds", "3", "--size", "64x36", "--record", str(out), "--record-fps", "5",
         "--osc", f"127.0.0.1:{port}", "--presets", str(tmp_path / "presets"),
         "--set", "prior.generator.width=64"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.settimeout(0.2)
    try:
        reply = None
        deadline = time.monotonic() + 60
        while reply is None and time.monotonic() < deadline and proc.poll() is None:
            query = OscMessageBuilder(address="/dreamengine/get/render/hue_deg").build()
            client.sendto(query.dgram, ("127.0.0.1", port))
            with contextlib.suppress(TimeoutError):
                reply = parse(client.recv(4096))
        assert reply == [("/dreamengine/render/hue_deg", (0.0,))]
        to = f"127.0.0.1:{port}"  # the same through the command line
        assert main(["osc", "/dreamengine/render/hue_deg", "90", "--to", to, "--wait", "0"]) == 0
        assert main(["osc", "/dreamengine/sampler/eps2", "99", "--to", to, "--wait", "0"]) == 1
        assert "the show refused /dreamengine/sampler/eps2 99" in capsys.readouterr().err
        assert main(["osc", "/dreamengine/get/render/hue_deg", "--to", to, "--wait", "5"]) == 0
        assert capsys.readouterr().out.strip() == "/dreamengine/render/hue_deg 90.0"
        send_message("127.0.0.1", port, "/dreamengine/sampler/eps1", "not a number")
        client.sendto(b"\x00garbage", ("127.0.0.1", port))
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        client.close()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "ignored OSC /dreamengine/sampler/eps1" in stdout + stderr
    lines = [json.loads(x) for x in (out / "frames.jsonl").read_text().splitlines()]
    changed = [x for x in lines if x.get("controls")]
    assert changed and changed[0]["controls"][0]["control"] == "render.hue_deg"
    assert changed[0]["controls"][0]["source"] == "osc"
    after = [x for x in lines if x["index"] >= changed[0]["index"]]
    assert all(x["render"]["hue"] == pytest.approx(math.pi / 2) for x in after)


def test_library_log_floods_are_rate_limited(capsys) -> None:
    import logging

    from dreamengine.cli.logs import RateLimit

    now = [0.0]
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RateLimit(5.0, clock=lambda: now[0]))
    root = logging.getLogger()
    others, root.handlers = root.handlers, [handler]  # alone: earlier tests' main() left some
    try:
        for i in range(1000):  # what python-osc does for every malformed bundle
            now[0] = i * 0.001
            logging.warning("Could not identify content type of dgram %d", i)
        now[0] = 6.0
        logging.warning("Could not identify content type of dgram again")
    finally:
        root.handlers = others
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert "999 more like it" in lines[1]


@pytest.mark.slow
@pytest.mark.gl
def test_sigterm_finishes_the_recording_and_the_summary(clip: Path, tmp_path: Path,
                                                        gl_ctx) -> None:
    import shutil
    import signal

    out = tmp_path / "rec"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dreamengine", "live", "--headless", "--input", str(clip),
         "--seconds", "120", "--size", "64x36", "--record", str(out), "--record-fps", "5",
         "--video", "--osc", f"127.0.0.1:{free_port()}", "--presets", str(tmp_path / "p")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        frames = out / "frames.jsonl"
        while time.monotonic() < deadline and proc.poll() is None and not (
                frames.is_file() and frames.read_text().count("\n") >= 3):
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    said = stdout + stderr
    assert proc.returncode == 0, said
    assert "SIGTERM: finishing the show" in said and "showed " in said and "recorded " in said
    if shutil.which("ffmpeg"):
        assert (out / "video.mp4").is_file()
    assert "leaked semaphore" not in said


def test_the_address_space_is_a_table_that_routes_and_is_documented() -> None:
    from dreamengine.controls.addresses import ROUTES, address_of, route

    def handler(address: str) -> tuple[str, dict[str, str]] | None:
        found = route(address)
        return None if found is None else (found[0].handler, found[1])

    assert handler("/dreamengine/reseed") == ("action", {"ACTION": "reseed"})
    assert handler("/dreamengine/get/sampler/eps2") == ("get", {"SECTION": "sampler",
                                                                "KEY": "eps2"})
    assert handler("/dreamengine/preset/load") == ("preset_load", {})
    assert handler("/dreamengine/weight/dog") == ("set", {"SECTION": "weight", "KEY": "dog"})
    for outside in ("/dreamengine/bogus", "/dreamengine/a/b/c/d", "/synth/volume"):
        assert route(outside) is None, outside
    assert address_of("sampler.eps2") == "/dreamengine/sampler/eps2"
    assert address_of("quit") == "/dreamengine/quit"
    console = Console(Controls(EngineConfig(), ("dog",)), Path("/nonexistent"), say=lambda m: None)
    for row in ROUTES:  # every row has its handler, and the README lists every address
        assert callable(getattr(console, f"on_{row.handler}")), row
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for row in ROUTES:
        if row.pattern != "ACTION":
            shown = "/dreamengine/" + "/".join(
                f"<{part.lower()}>" if part.isupper() else part for part in row.pattern.split("/"))
            assert shown in readme, f"the README's address table lacks {shown}"


def test_osc_command_refuses_addresses_the_table_does_not_know(capsys) -> None:
    to = f"127.0.0.1:{free_port()}"
    assert main(["osc", "/dreamengine/sampler/eps2/extra", "--to", to, "--wait", "0"]) == 2
    assert "is not in dreamengine's space" in capsys.readouterr().err
