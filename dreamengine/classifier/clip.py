"""One probability vector for a whole clip from its per-window vectors (``classify``, the model
card's figures).

Each label's clip probability is the mean of its highest half of the window probabilities. A
sound that fills at least half of the clip keeps its full strength, while a flicker in one or
two windows (a transient that looks like another class for 60 ms) cannot carry the clip, as it
does with the maximum. On the real validation clips the maximum scored scene macro-F1 0.60 and
held-out music macro-F1 0.60, the mean of the top 3 windows 0.60 and 0.63, the top half 0.63 and
0.71 (stage-2 classifier; ``priors/sound/MODEL_CARD.md``). A brief sound in a long file is in
the per-window vectors (``classify --windows``), not necessarily in the clip's.
"""

from __future__ import annotations

import numpy as np

from dreamengine.vocabulary import enforce_hierarchy


def clip_probs(window_probs: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """``[n_windows, n_labels]`` → ``[n_labels]``: the mean of each label's top half of windows
    (at least one), with ``music`` kept at or above its children."""
    if window_probs.ndim != 2 or window_probs.shape[1] != len(labels) or not len(window_probs):
        raise ValueError(f"expected [n_windows >= 1, {len(labels)}] window probabilities, "
                         f"got {window_probs.shape}")
    top = (len(window_probs) + 1) // 2
    clip = np.sort(window_probs, axis=0)[-top:].mean(axis=0)
    return enforce_hierarchy(clip.astype(np.float32), labels)
