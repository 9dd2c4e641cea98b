"""Render passes in a headless EGL context: known input, expected pixels."""

from pathlib import Path

import numpy as np
import pytest

from dreamengine.errors import DreamengineError
from dreamengine.render import CrossfadePass, RenderConfig, Renderer, UpscalePass
from dreamengine.render.passes import cover_crop, make_texture
from dreamengine.render.program import load_program
from dreamengine.resources import shaders_dir

pytestmark = pytest.mark.gl


def upload(ctx, rgb: np.ndarray):
    tex = make_texture(ctx, (rgb.shape[1], rgb.shape[0]), dtype="f1", components=3)
    tex.write(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes())
    return tex


def read_rgba16f(tex) -> np.ndarray:
    w, h = tex.size
    return np.frombuffer(tex.read(), dtype=np.float16).reshape(h, w, 4).astype(np.float32)


@pytest.mark.parametrize("progress", [0.0, 0.25, 0.5, 1.0, 1.7])
def test_crossfade_mixes_linearly(gl_ctx, progress: float) -> None:
    a = upload(gl_ctx, np.full((4, 4, 3), (200, 0, 40), np.uint8))
    b = upload(gl_ctx, np.full((4, 4, 3), (0, 100, 240), np.uint8))
    fade = CrossfadePass(gl_ctx, (4, 4))
    out = read_rgba16f(fade.run(a, b, progress))[..., :3]
    p = min(progress, 1.0)
    expected = (1 - p) * np.array([200, 0, 40]) / 255 + p * np.array([0, 100, 240]) / 255
    np.testing.assert_allclose(out, np.broadcast_to(expected, out.shape), atol=4e-3)
    fade.release()


def test_upscale_keeps_flat_colour_and_orientation(gl_ctx) -> None:
    src = np.zeros((8, 8, 3), np.uint8)
    src[:4] = (255, 0, 0)  # top half red (row 0 = top)
    src[4:] = (0, 0, 255)  # bottom half blue
    up = UpscalePass(gl_ctx, (32, 32))
    up.run(upload(gl_ctx, src))
    out = np.frombuffer(up.fbo.read(components=3, alignment=1), np.uint8).reshape(32, 32, 3)
    assert (out[:12] == (255, 0, 0)).all()  # away from the edge the cubic is exact
    assert (out[-12:] == (0, 0, 255)).all()
    assert out[14:18, :, 0].min() < 255 and out[14:18, :, 2].min() < 255  # a blended seam
    up.release()


def test_upscale_interpolates_a_ramp_smoothly(gl_ctx) -> None:
    ramp = np.tile(np.linspace(0, 255, 8).astype(np.uint8)[None, :, None], (8, 1, 3))
    up = UpscalePass(gl_ctx, (64, 8))
    up.run(upload(gl_ctx, ramp))
    row = np.frombuffer(up.fbo.read(components=3, alignment=1), np.uint8).reshape(8, 64, 3)[4, :, 0]
    inner = row[8:56].astype(int)  # Catmull-Rom reproduces a linear ramp exactly inside
    assert (np.diff(inner) >= 0).all()
    np.testing.assert_allclose(inner, np.interp(np.arange(8, 56) + 0.5, np.arange(8) * 8 + 4,
                                                np.linspace(0, 255, 8)), atol=2.5)


def test_cover_crop_never_stretches() -> None:
    assert cover_crop((64, 64), (640, 360)) == (1.0, pytest.approx(360 / 640))
    assert cover_crop((64, 64), (360, 640)) == (pytest.approx(360 / 640), 1.0)
    assert cover_crop((64, 64), (100, 100)) == (1.0, 1.0)


def test_renderer_fades_from_the_shown_canvas_into_new_keyframes(gl_ctx) -> None:
    r = Renderer(gl_ctx, (16, 16), 8, RenderConfig(crossfade_s=1.0))
    red, blue = np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.uint8)
    red[..., 0], blue[..., 2] = 255, 255
    r.push_keyframe(red, t=0.0)
    r.render(1.0)
    assert (r.read() == (255, 0, 0)).all()
    r.push_keyframe(blue, t=1.0)
    r.render(1.5)
    mid = r.read().astype(int)
    assert abs(mid[..., 0].mean() - 127.5) < 2 and abs(mid[..., 2].mean() - 127.5) < 2
    r.push_keyframe(red, t=1.5)  # arrives mid-fade: fades from the half-blend, no jump
    r.render(1.5)
    np.testing.assert_array_equal(r.read(), mid)
    r.render(2.5)
    assert (r.read() == (255, 0, 0)).all()
    with pytest.raises(ValueError, match="keyframe"):
        r.push_keyframe(np.zeros((4, 4, 3), np.uint8), 3.0)
    r.release()


def test_renderer_read_keeps_row_zero_on_top(gl_ctx) -> None:
    r = Renderer(gl_ctx, (20, 20), 8, RenderConfig(crossfade_s=0.0))
    key = np.zeros((8, 8, 3), np.uint8)
    key[:2] = 255  # a white band along the top
    r.push_keyframe(key, 0.0)
    r.render(0.0)
    frame = r.read()
    assert frame[0].min() == 255 and frame[-1].max() == 0
    r.release()


def test_shader_compile_error_names_file_and_line(gl_ctx, tmp_path: Path) -> None:
    (tmp_path / "fullscreen.vert").write_text((shaders_dir() / "fullscreen.vert").read_text())
    (tmp_path / "broken.frag").write_text(
        "#version 330 core\nout vec4 color;\nvoid main() {\n    color = vec4(undefined_name);\n}\n")
    with pytest.raises(DreamengineError, match=r"broken\.frag:4:"):
        load_program(gl_ctx, "broken.frag", folder=tmp_path)


def test_every_shipped_shader_compiles(gl_ctx) -> None:
    frags = sorted(p.name for p in shaders_dir().glob("*.frag"))
    assert frags, "no fragment shaders found"
    for name in frags:
        load_program(gl_ctx, name).release()
