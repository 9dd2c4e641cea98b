"""Render passes in a headless EGL context: known input, expected pixels."""

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dreamengine.errors import DreamengineError
from dreamengine.render import FrameParams, RenderConfig, Renderer, canvas_size, frame_params
from dreamengine.render.overlay import overlay_lines, render_text
from dreamengine.render.passes import (
    ColourPass,
    CrossfadePass,
    FeedbackPass,
    OverlayPass,
    PresentPass,
    SharpenPass,
    UpscalePass,
    cover_crop,
    make_texture,
)
from dreamengine.render.program import load_program
from dreamengine.resources import shaders_dir

pytestmark = pytest.mark.gl
STILL = FrameParams(t=0.0, zoom=1.0, rotate=0.0, drift=(0.0, 0.0), decay=1.0, key_mix=0.0)


def upload(ctx, rgb: np.ndarray):
    tex = make_texture(ctx, (rgb.shape[1], rgb.shape[0]), dtype="f1", components=3)
    tex.write(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes())
    return tex


def read_f16(tex) -> np.ndarray:
    """A pass's output as float RGB in 0..1, whether it is stored in 16-bit float or 8-bit."""
    w, h = tex.size
    if tex.dtype == "f1":
        return np.frombuffer(tex.read(), np.uint8).reshape(h, w, 4)[..., :3] / 255.0
    return np.frombuffer(tex.read(), dtype=np.float16).reshape(h, w, 4).astype(np.float32)[..., :3]


def read_u8(fbo, size) -> np.ndarray:
    w, h = size
    return np.frombuffer(fbo.read(components=3, alignment=1), np.uint8).reshape(h, w, 3)


def pattern(h: int = 8, w: int = 8) -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("progress", [0.0, 0.25, 0.5, 1.0, 1.7])
def test_crossfade_mixes_linearly(gl_ctx, progress: float) -> None:
    a = upload(gl_ctx, np.full((4, 4, 3), (200, 0, 40), np.uint8))
    b = upload(gl_ctx, np.full((4, 4, 3), (0, 100, 240), np.uint8))
    fade = CrossfadePass(gl_ctx, (4, 4))
    out = read_f16(fade.run(a, b, progress))
    p = min(progress, 1.0)
    expected = (1 - p) * np.array([200, 0, 40]) / 255 + p * np.array([0, 100, 240]) / 255
    np.testing.assert_allclose(out, np.broadcast_to(expected, out.shape), atol=4e-3)
    fade.release()


def test_feedback_still_params_are_identity(gl_ctx) -> None:
    src = pattern()
    fb = FeedbackPass(gl_ctx, (8, 8))
    out = read_f16(fb.run(upload(gl_ctx, src), upload(gl_ctx, np.zeros_like(src)), STILL))
    np.testing.assert_allclose(out, src / 255, atol=2e-3)
    fb.release()


def test_feedback_decay_and_keyframe_mix(gl_ctx) -> None:
    old = upload(gl_ctx, np.full((8, 8, 3), 200, np.uint8))
    key = upload(gl_ctx, np.full((8, 8, 3), 40, np.uint8))
    fb = FeedbackPass(gl_ctx, (8, 8))
    out = read_f16(fb.run(old, key, replace(STILL, decay=0.5, key_mix=0.25)))
    np.testing.assert_allclose(out, 0.75 * 0.5 * 200 / 255 + 0.25 * 40 / 255, atol=2e-3)
    fb.release()


def test_feedback_zoom_falls_inward_around_the_centre(gl_ctx) -> None:
    ramp = np.tile(np.linspace(0, 255, 16).astype(np.uint8)[None, :, None], (16, 1, 3))
    fb = FeedbackPass(gl_ctx, (16, 16))
    out = read_f16(fb.run(upload(gl_ctx, ramp), upload(gl_ctx, ramp), replace(STILL, zoom=2.0)))
    row = out[8, :, 0]
    src = ramp[8, :, 0] / 255
    # pixel x shows the source at 0.5 + (x_uv - 0.5) / 2: the ramp is half as steep
    assert np.diff(row[2:14]).mean() == pytest.approx(np.diff(src).mean() / 2, rel=0.05)
    assert abs(row[7:9].mean() - src[7:9].mean()) < 0.02  # the centre stays put
    fb.release()


def test_feedback_drift_and_rotation(gl_ctx) -> None:
    src = np.zeros((16, 16, 3), np.uint8)
    src[4, 4] = 255  # one lit texel
    fb = FeedbackPass(gl_ctx, (16, 16))
    shifted = read_f16(fb.run(upload(gl_ctx, src), upload(gl_ctx, src),
                              replace(STILL, drift=(2 / 16, 3 / 16))))
    assert np.unravel_index(shifted[..., 0].argmax(), (16, 16)) == (7, 6)  # down 3, right 2
    turned = read_f16(fb.run(upload(gl_ctx, src), upload(gl_ctx, src),
                             replace(STILL, rotate=math.pi)))
    assert np.unravel_index(turned[..., 0].argmax(), (16, 16)) == (11, 11)  # point-mirrored
    fb.release()


def test_colour_neutral_is_identity_and_controls_act(gl_ctx) -> None:
    src = pattern()
    colour = ColourPass(gl_ctx, (8, 8))
    tex = upload(gl_ctx, src)
    np.testing.assert_allclose(read_f16(colour.run(tex, STILL)), src / 255, atol=6e-3)
    grey = read_f16(colour.run(tex, replace(STILL, saturation=0.0)))
    np.testing.assert_allclose(grey[..., 0], grey[..., 2], atol=4e-3)
    luma = (src / 255) @ np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(grey[..., 1], luma, atol=6e-3)
    bright = read_f16(colour.run(upload(gl_ctx, np.full((8, 8, 3), 100, np.uint8)),
                                 replace(STILL, brightness=0.1)))
    np.testing.assert_allclose(bright, 100 / 255 + 0.1, atol=4e-3)
    colour.release()


def test_sharpen_leaves_flat_areas_and_steepens_edges(gl_ctx) -> None:
    src = np.full((8, 8, 3), 100, np.uint8)
    src[:, 4:] = 150
    sharpen = SharpenPass(gl_ctx, (8, 8))
    out = read_f16(sharpen.run(upload(gl_ctx, src), 1.0)) * 255
    assert out[:, 1].mean() == pytest.approx(100, abs=1)
    assert out[:, 3].mean() < 95 and out[:, 4].mean() > 155  # overshoot on both sides
    sharpen.release()


def test_upscale_keeps_flat_colour_and_orientation(gl_ctx) -> None:
    src = np.zeros((8, 8, 3), np.uint8)
    src[:4] = (255, 0, 0)  # top half red (row 0 = top)
    src[4:] = (0, 0, 255)  # bottom half blue
    up = UpscalePass(gl_ctx, (32, 32))
    up.run(upload(gl_ctx, src))
    out = read_u8(up.fbo, (32, 32))
    assert (out[:12] == (255, 0, 0)).all()  # away from the edge the cubic is exact
    assert (out[-12:] == (0, 0, 255)).all()
    assert out[14:18, :, 0].min() < 255 and out[14:18, :, 2].min() < 255  # a blended seam
    up.release()


@pytest.mark.parametrize("filter", ["catmull-rom", "b-spline"])
def test_upscale_filters_keep_flat_colour(gl_ctx, filter: str) -> None:
    up = UpscalePass(gl_ctx, (40, 30), filter)
    up.run(upload(gl_ctx, np.full((8, 8, 3), (10, 128, 250), np.uint8)))
    assert (np.abs(read_u8(up.fbo, (40, 30)).astype(int) - (10, 128, 250)) <= 1).all()
    up.release()
    with pytest.raises(ValueError, match="unknown upscale filter"):
        UpscalePass(gl_ctx, (4, 4), "lanczos")


def test_upscale_interpolates_a_ramp_smoothly(gl_ctx) -> None:
    ramp = np.tile(np.linspace(0, 255, 8).astype(np.uint8)[None, :, None], (8, 1, 3))
    up = UpscalePass(gl_ctx, (64, 8))
    up.run(upload(gl_ctx, ramp))
    row = read_u8(up.fbo, (64, 8))[4, :, 0]
    inner = row[8:56].astype(int)  # Catmull-Rom reproduces a linear ramp exactly inside
    assert (np.diff(inner) >= 0).all()
    np.testing.assert_allclose(inner, np.interp(np.arange(8, 56) + 0.5, np.arange(8) * 8 + 4,
                                                np.linspace(0, 255, 8)), atol=2.5)


def test_cover_crop_never_stretches() -> None:
    assert cover_crop((64, 64), (640, 360)) == (1.0, pytest.approx(360 / 640))
    assert cover_crop((64, 64), (360, 640)) == (pytest.approx(360 / 640), 1.0)
    assert cover_crop((64, 64), (100, 100)) == (1.0, 1.0)
    assert canvas_size((1920, 1080), 512) == (512, 288)
    assert canvas_size((320, 180), 512) == (320, 180)


def test_overlay_draws_inside_its_rectangle_only(gl_ctx) -> None:
    up = UpscalePass(gl_ctx, (64, 48))
    up.run(upload(gl_ctx, np.zeros((8, 8, 3), np.uint8)))
    text = np.zeros((10, 20, 4), np.uint8)
    text[..., :3], text[..., 3] = 255, 255
    text[5:, :, 3] = 0  # the lower half of the text image is transparent
    overlay = OverlayPass(gl_ctx)
    tex = make_texture(gl_ctx, (20, 10), dtype="f1", components=4)
    tex.write(text.tobytes())
    overlay.run(up.fbo, tex, (4, 2))
    out = read_u8(up.fbo, (64, 48))
    assert (out[2:7, 4:24] == 255).all()  # rows 2..6 from the top: opaque text
    assert (out[7:12, 4:24] == 0).all() and out[:2].max() == 0 and out[:, 24:].max() == 0
    overlay.release()
    up.release()


def test_overlay_text_lists_classes_and_parameters() -> None:
    lines = overlay_lines({"dog": 0.7, "bird": 0.3}, {"dog": 0.9, "rain": 0.1},
                          {"eps1": 0.3, "lr": 0.08})
    assert lines[0].startswith("heard   dog 0.90") and "dog 0.70" in lines[1]
    assert "lr 0.08" in lines[2] and len(lines) == 3
    warned = overlay_lines({}, {"dog": 0.1}, {}, audio_overflows=3)
    assert "dream   drifting" in warned[1] and "3 input overflows" in warned[-1]
    rgba = render_text(lines)
    assert rgba.ndim == 3 and rgba.shape[2] == 4 and rgba[..., 0].max() == 255


def test_present_flips_for_the_window(gl_ctx) -> None:
    src = pattern(6, 10)
    target = gl_ctx.simple_framebuffer((10, 6))
    PresentPass(gl_ctx).run(target, upload(gl_ctx, src))
    np.testing.assert_array_equal(read_u8(target, (10, 6)), src[::-1])


def test_frame_params_do_not_depend_on_the_frame_rate() -> None:
    cfg = RenderConfig(zoom_per_s=1.5, decay_per_s=0.5, keyframe_tau_s=0.2, rotate_deg_per_s=30)
    one = frame_params(cfg, 0.0, 0.1)
    half = frame_params(cfg, 0.0, 0.05)
    assert half.zoom**2 == pytest.approx(one.zoom)
    assert half.decay**2 == pytest.approx(one.decay)
    assert (1 - half.key_mix) ** 2 == pytest.approx(1 - one.key_mix)
    assert 2 * half.rotate == pytest.approx(one.rotate)


def test_renderer_fades_from_the_shown_blend_into_new_keyframes(gl_ctx) -> None:
    cfg = RenderConfig(crossfade_s=1.0, zoom_per_s=1.0, rotate_deg_per_s=0.0,
                       decay_per_s=1.0, keyframe_tau_s=0.0)  # the canvas is the keyframe
    r = Renderer(gl_ctx, (16, 16), 8, cfg)
    red, blue = np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.uint8)
    red[..., 0], blue[..., 2] = 255, 255
    r.push_keyframe(red, t=0.0)
    r.render(frame_params(cfg, 1.0, 1 / 30))
    assert (r.read() == (255, 0, 0)).all()
    r.push_keyframe(blue, t=1.0)
    r.render(frame_params(cfg, 1.5, 1 / 30))
    mid = r.read().astype(int)
    assert abs(mid[..., 0].mean() - 127.5) < 2 and abs(mid[..., 2].mean() - 127.5) < 2
    r.push_keyframe(red, t=1.5)  # arrives mid-fade: fades from the half-blend, no jump
    r.render(frame_params(cfg, 1.5, 1 / 30))
    np.testing.assert_allclose(r.read(), mid, atol=1)
    r.render(frame_params(cfg, 2.5, 1 / 30))
    assert (r.read() == (255, 0, 0)).all()
    with pytest.raises(ValueError, match="keyframe"):
        r.push_keyframe(np.zeros((4, 4, 3), np.uint8), 3.0)
    r.release()


def test_keyframes_stamped_with_each_frames_time_still_fade_in(gl_ctx) -> None:
    # Offline renders push a keyframe at exactly the frame's time, every frame: the fade must
    # still progress (it froze on the first blend when progress was measured from the frame).
    cfg = RenderConfig(crossfade_s=0.3, zoom_per_s=1.0, rotate_deg_per_s=0.0,
                       decay_per_s=1.0, keyframe_tau_s=0.0)
    r = Renderer(gl_ctx, (16, 16), 8, cfg)
    red, blue = np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.uint8)
    red[..., 0], blue[..., 2] = 255, 255
    shown = []
    for i in range(60):  # 1 s of red, then 1 s of blue, at 30 fps
        t = i / 30
        r.push_keyframe(red if i < 30 else blue, t)
        r.render(frame_params(cfg, t, 1 / 30))
        shown.append(r.read().reshape(-1, 3).mean(axis=0))
    # each new keyframe fades on from the blend at its time: an exponential approach with
    # 1/9 of the way per frame, so 0.889^29 ≈ 3 % of the old colour is left after a second
    assert shown[29][0] > 240 and shown[29][2] < 5  # red had a second to fade in
    assert shown[59][2] > 240 and shown[59][0] < 10  # then blue took over
    assert 5 < shown[33][2] < 250  # through a fade, not a cut
    r.release()


def test_renderer_keeps_row_zero_on_top_and_resizes(gl_ctx) -> None:
    cfg = RenderConfig(crossfade_s=0.0, keyframe_tau_s=0.0)
    r = Renderer(gl_ctx, (20, 20), 8, cfg)
    key = np.zeros((8, 8, 3), np.uint8)
    key[:2] = 255  # a white band along the top
    r.push_keyframe(key, 0.0)
    r.render(frame_params(cfg, 0.0, 1 / 30))
    frame = r.read()
    assert frame[0].min() == 255 and frame[-1].max() == 0
    r.resize((40, 30))
    r.render(frame_params(cfg, 0.1, 1 / 30))
    assert r.read().shape == (30, 40, 3)
    r.release()


def test_shader_compile_error_names_file_and_line(gl_ctx, tmp_path: Path) -> None:
    (tmp_path / "fullscreen.vert").write_text((shaders_dir() / "fullscreen.vert").read_text())
    (tmp_path / "broken.frag").write_text(
        "#version 330 core\nout vec4 color;\nvoid main() {\n    color = vec4(undefined_name);\n}\n")
    with pytest.raises(DreamengineError, match=r"broken\.frag:4:"):
        load_program(gl_ctx, "broken.frag", folder=tmp_path)


def test_every_shipped_shader_compiles(gl_ctx) -> None:
    frags = sorted(p.name for p in shaders_dir().glob("*.frag"))
    assert len(frags) >= 7
    for name in frags:
        load_program(gl_ctx, name).release()
