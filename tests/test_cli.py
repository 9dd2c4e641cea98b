"""The ``dreamengine`` command end to end, and its errors (a message and exit 2, no traceback)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gl


def run_cli(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the installed console script (``python -m dreamengine`` if it is not on PATH)."""
    script = shutil.which("dreamengine", path=str(Path(sys.executable).parent))
    cmd = [script] if script else [sys.executable, "-m", "dreamengine"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([*cmd, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)


@pytest.mark.slow
def test_render_writes_one_png_and_one_log_line_per_frame(clip: Path, tmp_path: Path,
                                                          gl_ctx) -> None:
    out = tmp_path / "out"
    proc = run_cli("render", "--input", clip, "--out", out, "--size", "96x64", "--fps", "20",
                   "--seconds", "1.0", "--set", "sampler.steps_per_keyframe=1",
                   "--set", "prior.generator.width=64", "--set", "dream.keyframes_per_s=5")
    assert proc.returncode == 0, proc.stderr
    pngs = sorted(out.glob("frame_*.png"))
    lines = [json.loads(x) for x in (out / "frames.jsonl").read_text().splitlines()]
    assert len(pngs) == len(lines) == 20
    assert [x["index"] for x in lines] == list(range(20))
    assert [x["file"] for x in lines] == [p.name for p in pngs]
    assert lines[10]["t"] == pytest.approx(0.5)
    last = lines[-1]
    assert set(last["probs"]) >= {"dog", "siren", "music", "drums", "other"}
    assert all(0.0 <= p <= 1.0 for p in last["probs"].values())
    assert last["sampler"]["steps_per_keyframe"] == 1 and "lr" in last["sampler"]
    assert isinstance(last["target"], dict)
    # the fast path: the click at 0.7 s moves the frame that first hears it (t = 0.75 s)
    by_t = {round(x["t"], 2): x for x in lines}
    assert by_t[0.75]["drive"]["onsets"] >= 1
    assert by_t[0.75]["render"]["pulse"] > max(by_t[0.65]["render"]["pulse"], 0.01)
    from PIL import Image
    assert Image.open(pngs[0]).size == (96, 64)
    assert "Traceback" not in proc.stderr


def test_render_is_deterministic(clip: Path, tmp_path: Path, gl_ctx) -> None:
    args = ("--input", clip, "--size", "32x32", "--fps", "10", "--seconds", "0.5",
            "--set", "prior.generator.width=64", "--quiet")
    first = run_cli("render", *args, "--out", tmp_path / "a")
    second = run_cli("render", *args, "--out", tmp_path / "b")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    for name in ("frame_000004.png", "frames.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize(("args", "message"), [
    (["render", "--input", "{tmp}/absent.wav", "--out", "{tmp}/o"], "audio file not found"),
    (["render", "--input", "{tmp}/garbage.wav", "--out", "{tmp}/o"], "cannot read audio file"),
    (["render", "--input", "{clip}", "--out", "/proc/forbidden"], "cannot write to output folder"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--set", "sampler.bogus=1"],
     "unknown config key 'sampler.bogus'"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--set", "sampler.lr=fast"],
     "config key 'sampler.lr' expects float"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--config", "{tmp}/absent.toml"],
     "config file not found"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--size", "big"], "WIDTHxHEIGHT"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--fps", "-3"], "finite positive"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--fps", "nan"], "finite positive"),
    (["live", "--headless", "--seconds", "inf"], "finite positive"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--bogus"],
     "unrecognized arguments: --bogus"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--config", "{tmp}/latin1.toml"],
     "not UTF-8"),
    (["live", "--device", "nosuchdevice", "--headless", "--seconds", "1"],
     "input device 'nosuchdevice'"),
    (["live", "--device", "999", "--headless", "--seconds", "1"], "input device '999'"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--set", "sampler.eps1=-5"],
     "sampler.eps1 must be within 0..5"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--set", "sampler.lr=1e9"],
     "sampler.lr must be within"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--set", "render.canvas_px=-5"],
     "render.canvas_px must be at least 8"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--set", "render.canvas_px=100000"],
     "render.canvas_px must be within 8..8192"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--set", "dream.seed=-1"],
     "dream.seed must be within"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--set",
      "dream.seed=123456789012345678901"], "dream.seed must be within"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--set",
      "dream.canvas_px=1048576"], "dream.canvas_px must be within 32..4096"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--fps", "100000"], "at most 1000"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--set", "selection.mutes=unicorn"],
     "unknown class 'unicorn'"),
    (["sample", "--class", "dog", "--steps", "0", "--out", "{tmp}/o"],
     "--steps must be at least 1"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--set", "recording.max_pending=0"],
     "recording.max_pending must be within 1..4096"),
    (["render", "--input", "{clip}", "--out", "{tmp}/o", "--set", "recording.png_level=12"],
     "recording.png_level must be within 0..9"),
    (["transmogrify"], "invalid choice"),
])
def test_bad_input_is_a_clear_error(args: list[str], message: str, clip: Path,
                                    tmp_path: Path) -> None:
    (tmp_path / "garbage.wav").write_bytes(b"RIFF....not really a wave file")
    (tmp_path / "latin1.toml").write_bytes("[render]\n# d\u00e9j\u00e0 vu\n".encode("latin-1"))
    filled = [a.format(tmp=tmp_path, clip=clip) for a in args]
    proc = run_cli(*filled, timeout=120)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_and_version() -> None:
    assert "render" in run_cli("--help").stdout
    assert run_cli("--version").stdout.startswith("dreamengine ")


@pytest.mark.slow
@pytest.mark.slow
def test_a_recorded_set_is_never_overwritten_without_force(clip: Path, tmp_path: Path,
                                                           gl_ctx) -> None:
    """render, replay and live onto a folder that holds a session: render and replay refuse
    (exit 2, nothing touched), live records beside it and says where; --force replaces it
    whole (no frame of the old session is left to mix with the new one)."""
    out = tmp_path / "set"
    args = ("--input", clip, "--size", "32x32", "--fps", "10", "--quiet")
    assert run_cli("render", *args, "--seconds", "0.5", "--out", out).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    again = run_cli("render", *args, "--seconds", "0.3", "--out", out)
    assert again.returncode == 2 and "already holds a recorded session" in again.stderr
    assert "--force" in again.stderr and "Traceback" not in again.stderr
    onto = run_cli("replay", out, "--out", out.with_name("copy"), "--quiet")
    assert onto.returncode == 0, onto.stderr
    refused = run_cli("replay", out.with_name("copy"), "--out", out, "--quiet")
    assert refused.returncode == 2 and "already holds a recorded session" in refused.stderr
    live = run_cli("live", "--headless", "--input", clip, "--seconds", "0.5", "--size", "32x32",
                   "--record", out)
    assert live.returncode == 0, live.stderr
    assert f"recording to {out}-2" in live.stderr
    assert (tmp_path / "set-2" / "session.json").is_file()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    forced = run_cli("render", *args, "--seconds", "0.3", "--out", out, "--force")
    assert forced.returncode == 0, forced.stderr
    assert len(list(out.glob("frame_*.png"))) == 3
    assert len((out / "frames.jsonl").read_text().splitlines()) == 3


def test_replay_reproduces_a_render_exactly_and_rescales(clip: Path, tmp_path: Path,
                                                         gl_ctx) -> None:
    from PIL import Image

    session = tmp_path / "session"
    proc = run_cli("render", "--input", clip, "--out", session, "--size", "64x36", "--fps", "15",
                   "--seconds", "1.0", "--set", "prior.generator.width=64",
                   "--set", "render.sharpen=0.5", "--set", "render.hue_deg=30", "--quiet")
    assert proc.returncode == 0, proc.stderr
    same = run_cli("replay", session, "--out", tmp_path / "same", "--quiet")
    assert same.returncode == 0, same.stderr
    originals = sorted(session.glob("frame_*.png"))
    assert len(originals) == 15
    for png in originals:
        a = np.asarray(Image.open(png))
        b = np.asarray(Image.open(tmp_path / "same" / png.name))
        np.testing.assert_array_equal(a, b)
    big = run_cli("replay", session, "--out", tmp_path / "big", "--size", "256x144", "--quiet")
    assert big.returncode == 0, big.stderr
    frames = sorted((tmp_path / "big").glob("frame_*.png"))
    assert len(frames) == 15 and Image.open(frames[-1]).size == (256, 144)
    small_last = np.asarray(Image.open(originals[-1]).resize((32, 18), Image.BILINEAR), float)
    big_last = np.asarray(Image.open(frames[-1]).resize((32, 18), Image.BILINEAR), float)
    assert np.abs(small_last - big_last).mean() < 12  # the same picture, resampled
    broken = tmp_path / "broken"
    shutil.copytree(session, broken)
    (broken / "keyframes.f32").write_bytes(b"")  # truncated: the canvas snapshot is gone
    proc = run_cli("replay", broken, "--out", tmp_path / "b1", "--quiet")
    assert proc.returncode == 2 and "latents end before keyframe 0" in proc.stderr
    shutil.copytree(session, broken, dirs_exist_ok=True)
    cut = (session / "keyframes.jsonl").read_text().splitlines(keepends=True)
    (broken / "keyframes.jsonl").write_text("".join(cut[: len(cut) // 2]))
    proc = run_cli("replay", broken, "--out", tmp_path / "b-cut", "--quiet")
    assert proc.returncode == 2 and "keyframes.jsonl stops at keyframe" in proc.stderr
    meta = json.loads((session / "session.json").read_text())
    del meta["size"]
    shutil.copytree(session, broken, dirs_exist_ok=True)
    (broken / "session.json").write_text(json.dumps(meta))
    proc = run_cli("replay", broken, "--out", tmp_path / "b2", "--quiet")
    assert proc.returncode == 2 and "lacks 'size'" in proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [json.loads(x) for x in (session / "frames.jsonl").read_text().splitlines()]
    for line in lines:  # a later version's extra knob: replayed with what this one knows
        line["render"]["future_knob"] = 1.0
    newer = tmp_path / "newer"
    shutil.copytree(session, newer)
    (newer / "frames.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    proc = run_cli("replay", newer, "--out", tmp_path / "b3", "--quiet")
    assert proc.returncode == 0, proc.stderr
    lines[0]["render"]["drift"] = 5  # not a pair
    (newer / "frames.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    proc = run_cli("replay", newer, "--out", tmp_path / "b4", "--quiet")
    assert proc.returncode == 2 and "cannot be replayed" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_replay_of_a_folder_that_is_no_session(tmp_path: Path) -> None:
    proc = run_cli("replay", tmp_path, "--out", tmp_path / "o")
    assert proc.returncode == 2 and "not a recorded session" in proc.stderr
    proc = run_cli("replay", tmp_path, "--out", tmp_path / ".")
    assert proc.returncode == 2 and "another folder than the session's own" in proc.stderr


def test_classify_prints_one_line_per_file_and_fails_at_the_end(clip: Path,
                                                                tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"not audio")
    proc = run_cli("classify", "--json", "--windows", clip, garbage, clip)
    assert proc.returncode == 1
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [x["file"] for x in lines] == [str(clip), str(garbage), str(clip)]
    assert "error" in lines[1] and "garbage.wav" in lines[1]["error"]
    first = lines[0]
    assert set(first["probs"]) >= {"dog", "music", "drums", "other"}
    assert first["probs"]["music"] >= max(first["probs"][k] for k in ("drums", "keys", "voice"))
    times = [w["t"] for w in first["windows"]]
    assert times == sorted(times) and 1.2 < times[-1] <= 1.6  # windows cover the 1.5 s clip
    top = (len(first["windows"]) + 1) // 2
    for label in ("dog", "siren", "other"):  # the clip vector: mean of the top half of windows
        ranked = sorted((w["probs"][label] for w in first["windows"]), reverse=True)
        assert first["probs"][label] == pytest.approx(np.mean(ranked[:top]), abs=1e-3)
    assert lines[2]["probs"] == first["probs"]
    assert "Traceback" not in proc.stderr


def test_sample_writes_pngs_and_log_lines(tmp_path: Path) -> None:
    proc = run_cli("sample", "--class", "dog", "--class", "bird:0.5", "--n", "3", "--steps", "4",
                   "--out", tmp_path, "--set", "prior.generator.width=64")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in (tmp_path / "frames.jsonl").read_text().splitlines()]
    assert [x["file"] for x in lines] == [f"bird_dog_{i:03d}.png" for i in range(3)]
    assert all(x["target"] == {"dog": 1.0, "bird": 0.5} for x in lines)
    from PIL import Image
    picture = Image.open(tmp_path / lines[0]["file"])
    assert picture.mode == "RGB" and picture.size == (256, 256) and lines[0]["size"] == 256
    small = run_cli("sample", "--class", "dog", "--n", "1", "--steps", "2", "--size", "64",
                    "--out", tmp_path / "small")
    assert small.returncode == 0 and Image.open(tmp_path / "small" / "dog_000.png").size == (64, 64)
    bad = run_cli("sample", "--class", "dog", "--size", "100", "--out", tmp_path / "x")
    assert bad.returncode == 2 and "--size must be a multiple of 32" in bad.stderr
    bad = run_cli("sample", "--class", "wolf", "--out", tmp_path / "x")
    assert bad.returncode == 2 and "unknown class 'wolf'" in bad.stderr
    bad = run_cli("sample", "--class", "dog:loud", "--out", tmp_path / "x")
    assert bad.returncode == 2 and "unknown class 'dog:loud'" in bad.stderr
    bad = run_cli("sample", "--class", "dog:-1", "--out", tmp_path / "x")
    assert bad.returncode == 2 and "must be a finite number" in bad.stderr


def test_sample_takes_sound_labels_and_any_eyes_class_names(tmp_path: Path) -> None:
    """A sound label is drawn through the class map (rain → the ImageNet eye's umbrella); an
    eye's class name (with its colon) and a weight after it work as well."""
    proc = run_cli("sample", "--class", "rain", "--n", "1", "--steps", "3", "--size", "64",
                   "--out", tmp_path / "rain")
    assert proc.returncode == 0, proc.stderr
    line = json.loads((tmp_path / "rain" / "frames.jsonl").read_text())
    assert line["asked"] == {"rain": 1.0} and line["target"] == {"imagenet:umbrella": 1.0}
    proc = run_cli("sample", "--class", "imagenet:cab:0.5", "--class", "dog", "--n", "1",
                   "--steps", "2", "--size", "64", "--out", tmp_path / "mix")
    assert proc.returncode == 0, proc.stderr
    line = json.loads((tmp_path / "mix" / "frames.jsonl").read_text())
    assert line["target"] == {"imagenet:cab": 0.5, "dog": 1.0}
    bad = run_cli("sample", "--class", "other", "--out", tmp_path / "x")
    assert bad.returncode == 2 and "draws nothing" in bad.stderr
    listed = run_cli("config", "--classes")
    names = listed.stdout.split()
    assert listed.returncode == 0 and "dog" in names and "imagenet:umbrella" in names
    assert len(names) == len(set(names)) > 1000


def test_sample_through_your_own_torchvision_weights(tmp_path: Path) -> None:
    import torch
    import torchvision

    torch.manual_seed(0)
    weights = tmp_path / "resnet18.pt"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), weights)
    proc = run_cli("sample", "--vision", "torchvision:resnet18", "--weights", weights,
                   "--class", "dog", "--n", "1", "--steps", "2", "--out", tmp_path / "s",
                   "--size", "64")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "s" / "dog_000.png").is_file()
    proc = run_cli("sample", "--vision", "torchvision:resnet18", "--class", "dog",
                   "--out", tmp_path / "t")
    assert proc.returncode == 2 and "needs a weights file" in proc.stderr
    proc = run_cli("sample", "--vision", "torchvision:resnet34", "--weights", weights,
                   "--class", "dog", "--out", tmp_path / "u")
    assert proc.returncode == 2 and "resnet18.pt" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
@pytest.mark.gl
def test_live_through_your_own_torchvision_weights(clip: Path, tmp_path: Path) -> None:
    """The window's GL must not come before torchvision's import (triton crashed after it)."""
    weights = tmp_path / "resnet18.pt"
    make = ("import sys, torch, torchvision; torch.manual_seed(0); "
            "torch.save(torchvision.models.resnet18(weights=None).state_dict(), sys.argv[1])")
    subprocess.run([sys.executable, "-c", make, str(weights)], check=True, timeout=300)
    proc = run_cli("live", "--headless", "--input", clip, "--seconds", "0.6", "--size", "96x54",
                   "--vision", "torchvision:resnet18", "--weights", weights,
                   "--set", "dream.canvas_px=64")
    assert proc.returncode == 0, proc.stderr
    assert "showed" in proc.stderr


def test_classify_of_nan_audio_prints_no_numpy_warnings(tmp_path: Path) -> None:
    import soundfile as sf

    x = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)
    x[100:4000] = np.nan
    sf.write(tmp_path / "nan.wav", x, 16000, subtype="FLOAT")
    proc = run_cli("classify", "--json", "--quiet", tmp_path / "nan.wav")
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr and json.loads(proc.stdout)["probs"]
