"""The overlay's text, drawn with Pillow into an RGBA image that the overlay pass blends in."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from PIL import Image, ImageDraw, ImageFont

PADDING = 6  # px around the text block


def overlay_lines(target: Mapping[str, float], probs: Mapping[str, float],
                  sampler: Mapping[str, object], top: int = 4,
                  audio_overflows: int = 0) -> list[str]:
    """The text the performer sees: heard classes, what is being dreamed, the sampler settings."""
    heard = sorted(probs.items(), key=lambda kv: -kv[1])[:top]
    lines = ["heard   " + "  ".join(f"{k} {v:.2f}" for k, v in heard)]
    dreamed = sorted(target.items(), key=lambda kv: -kv[1])
    lines.append("dream   " + ("  ".join(f"{k} {v:.2f}" for k, v in dreamed) or "drifting"))
    keys = ("eps1", "eps2", "eps3", "lr", "steps_per_keyframe")
    lines.append("sampler " + "  ".join(f"{k} {sampler[k]:g}" for k in keys if k in sampler))
    if audio_overflows:
        lines.append(f"audio   {audio_overflows} input overflows (samples lost)")
    return lines


def render_text(lines: list[str], font_px: int = 14) -> np.ndarray:
    """``lines`` as white text on a translucent black box: ``[H, W, 4]`` uint8, row 0 = top."""
    font = ImageFont.load_default(size=font_px)
    probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    boxes = [probe.textbbox((0, 0), line or " ", font=font) for line in lines]
    line_h = int(max(b[3] for b in boxes)) + 2
    width = int(max(b[2] for b in boxes)) + 2 * PADDING
    height = line_h * len(lines) + 2 * PADDING
    image = Image.new("RGBA", (width, height), (0, 0, 0, 150))
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((PADDING, PADDING + i * line_h), line, fill=(255, 255, 255, 255), font=font)
    return np.asarray(image)
