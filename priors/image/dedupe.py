"""Near-duplicate removal with a DCT perceptual hash.

Each normalised 128 px object is laid on mid-grey (so its silhouette counts), reduced to 32×32
luminance, and hashed as the signs of its 8×8 low-frequency DCT block against their median
(pHash). Two images whose 64-bit hashes differ in at most ``max_distance`` bits are treated as
the same picture; the earlier one in priority order is kept (font emoji before the PNGs,
tuxpaint SVG before PNG, Noto before tuxpaint before GCompris).
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy.fft import dctn

HASH_SIDE = 32  # px of the luminance image the DCT runs on
LOW = 8  # low-frequency block kept: LOW×LOW bits
MAX_DISTANCE = 4  # bits; at or below this two images are duplicates


def phash(obj: Image.Image) -> np.ndarray:
    """64 boolean bits for an RGBA object image."""
    grey = Image.new("RGBA", obj.size, (128, 128, 128, 255))
    grey.alpha_composite(obj.convert("RGBA"))
    small = grey.convert("L").resize((HASH_SIDE, HASH_SIDE), Image.Resampling.LANCZOS)
    coeffs = dctn(np.asarray(small, np.float32), norm="ortho")[:LOW, :LOW].ravel()
    return coeffs[1:] > np.median(coeffs[1:])


def find_duplicates(hashes: list[np.ndarray], max_distance: int = MAX_DISTANCE) -> dict[int, int]:
    """Map index → index of the earlier image it duplicates (greedy, in list order)."""
    bits = np.stack(hashes) if hashes else np.zeros((0, LOW * LOW - 1), bool)
    kept: list[int] = []
    dupes: dict[int, int] = {}
    for i, row in enumerate(bits):
        if kept:
            dist = (bits[kept] != row).sum(axis=1)
            j = int(dist.argmin())
            if dist[j] <= max_distance:
                dupes[i] = kept[j]
                continue
        kept.append(i)
    return dupes
