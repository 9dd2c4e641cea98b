"""Decode, rasterise and normalise source images; make backgrounds and composite onto them.

Every item becomes one 128×128 RGBA "object" image: clip art is cropped to its alpha bounding box
and fitted inside a margin on a transparent canvas; photos (no meaningful transparency) are
centre-cropped to a square and stay opaque. SVG goes through ``rsvg-convert`` (Debian
``librsvg2-bin``). Noto emoji are rendered from the colour font with Pillow (136×128 bitmaps, so
sharper than the 64 px PNGs); where the font lacks a glyph or shapes a sequence differently from
the PNG, the PNG is used instead.
"""

from __future__ import annotations

import functools
import hashlib
import io
import subprocess
from pathlib import Path

import numpy as np
from catalogue import Item
from fetch import check_allowed
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from rcc import RccFile

SIZE = 128  # px, stored resolution (a 64 px copy is made at training time)
MARGIN = 10  # px of free border around clip art
SVG_RENDER = 384  # px, longest side SVGs are rasterised at before downsampling
FONT_SIZE = 109  # the only size NotoColorEmoji's bitmap strike renders at
ALPHA_CUT = 40  # alpha at or below this is treated as empty when cropping (faint halos)
NORMALISE_VERSION = 2  # bump when normalisation changes; keys the object cache
FONT_MATCH_MAX = 0.12  # mean |font - png| on [0, 1] above which the PNG is used


@functools.lru_cache(maxsize=4)
def _font(path: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, FONT_SIZE)


@functools.lru_cache(maxsize=256)
def _rcc(path: str) -> RccFile:
    return RccFile.open(Path(check_allowed(path)))


def load(item: Item, font_path: str) -> Image.Image:
    """Decode one item to an RGBA image at its natural resolution."""
    how = item.loader[0]
    if how == "font":
        return _emoji(item.loader[1], item.loader[2], font_path)
    data = (
        Path(check_allowed(item.loader[1])).read_bytes()
        if how == "file"
        else _rcc(item.loader[1]).read(item.loader[2])
    )
    if item.kind == "svg":
        data = rasterise_svg(data)
    return Image.open(io.BytesIO(data)).convert("RGBA")


def rasterise_svg(svg: bytes, size: int = SVG_RENDER) -> bytes:
    """SVG bytes → PNG bytes that fit in ``size``×``size``, aspect kept."""
    cmd = ["rsvg-convert", "--keep-aspect-ratio", "-w", str(size), "-h", str(size)]
    done = subprocess.run(cmd, input=svg, capture_output=True, timeout=60, check=True)
    return done.stdout


def _emoji(chars: str, png_path: str, font_path: str) -> Image.Image:
    png = Image.open(check_allowed(png_path)).convert("RGBA")
    glyph = render_glyph(chars, font_path)
    if glyph is None or _mismatch(glyph, png) > FONT_MATCH_MAX:
        return png
    return glyph


def render_glyph(chars: str, font_path: str) -> Image.Image | None:
    """Render an emoji sequence from the colour font, cropped; None if nothing was drawn."""
    canvas = Image.new("RGBA", (3 * FONT_SIZE, 2 * FONT_SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.text((8, 8), chars, font=_font(font_path), embedded_color=True)
    box = canvas.getchannel("A").getbbox()
    return canvas.crop(box) if box else None


def _mismatch(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two RGBA images fitted to 32 px and laid on grey."""
    grey = grey_background(32)
    arrays = [np.asarray(to_rgb(fit_object(im, 32, 0), grey), np.float32) for im in (a, b)]
    return float(np.abs(arrays[0] - arrays[1]).mean() / 255.0)


def is_photo(image: Image.Image) -> bool:
    """True when under 1 % of the pixels are transparent (a photo or full scene)."""
    alpha = np.asarray(image.getchannel("A"))
    return float((alpha < 250).mean()) < 0.01


def fit_object(image: Image.Image, size: int = SIZE, margin: int = MARGIN) -> Image.Image:
    """Crop to the alpha bounding box and fit inside ``size - 2*margin``, centred, RGBA."""
    box = image.getchannel("A").point(lambda a: 255 if a > ALPHA_CUT else 0).getbbox()
    obj = image.crop(box) if box else image
    inner = size - 2 * margin
    scale = inner / max(obj.size)
    new = (max(1, round(obj.width * scale)), max(1, round(obj.height * scale)))
    obj = obj.resize(new, Image.Resampling.LANCZOS)
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    canvas.alpha_composite(obj, ((size - new[0]) // 2, (size - new[1]) // 2))
    return canvas


def centre_crop(image: Image.Image, size: int = SIZE) -> Image.Image:
    """Largest centred square, resized to ``size``; opaque RGBA."""
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    square = image.crop((left, top, left + side, top + side)).convert("RGB")
    return square.resize((size, size), Image.Resampling.LANCZOS).convert("RGBA")


def normalise(image: Image.Image) -> tuple[Image.Image, bool]:
    """Return the 128 px RGBA object and whether it is a photo."""
    photo = is_photo(image)
    return (centre_crop(image) if photo else fit_object(image)), photo


def _rng(key: str) -> np.random.Generator:
    return np.random.default_rng(int(hashlib.sha1(key.encode()).hexdigest()[:12], 16))


def _colour(rng: np.random.Generator) -> np.ndarray:
    """A random colour from HSV with a wide value range, as float RGB in [0, 255]."""
    h, s, v = rng.random(), rng.uniform(0.0, 0.8), rng.uniform(0.25, 1.0)
    i, f = int(h * 6) % 6, h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return np.array(rgb, np.float32) * 255.0


def grey_background(size: int) -> Image.Image:
    return Image.new("RGB", (size, size), (128, 128, 128))


def background(key: str, size: int = SIZE) -> Image.Image:
    """Deterministic background for ``key``: solid, two-colour gradient, or soft noise."""
    rng = _rng(key)
    style = rng.choice(["solid", "gradient", "noise"], p=[0.3, 0.4, 0.3])
    if style == "solid":
        pixels = np.broadcast_to(_colour(rng), (size, size, 3))
    elif style == "gradient":
        pixels = _gradient(rng, size)
    else:
        pixels = _soft_noise(rng, size)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def _gradient(rng: np.random.Generator, size: int) -> np.ndarray:
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1) - 0.5
    t = (xx * np.cos(angle) + yy * np.sin(angle)) / np.sqrt(0.5) + 0.5
    t = np.clip(t, 0, 1)[..., None]
    return (1 - t) * _colour(rng) + t * _colour(rng)


def _soft_noise(rng: np.random.Generator, size: int) -> np.ndarray:
    base, other = _colour(rng), _colour(rng)
    cells = int(rng.integers(3, 9))
    coarse = Image.fromarray((rng.random((cells, cells)) * 255).astype(np.uint8), "L")
    smooth = coarse.resize((size, size), Image.Resampling.BICUBIC)
    smooth = smooth.filter(ImageFilter.GaussianBlur(size / 16))
    t = (np.asarray(smooth, np.float32) / 255.0)[..., None]
    grain = rng.normal(0, 6, (size, size, 1))
    return (1 - t) * base + t * other + grain


def to_rgb(obj: Image.Image, bg: Image.Image) -> Image.Image:
    """Alpha-composite an RGBA object over an RGB background of the same size."""
    out = bg.convert("RGBA")
    out.alpha_composite(obj)
    return out.convert("RGB")
