"""Sound-event classifier: a small multi-label CNN over log-mel windows, run every few hops.

The names below load on first use, so reading the configuration (``dreamengine config``)
does not import torch, scipy or soundfile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dreamengine.lazy import lazy_names

if TYPE_CHECKING:
    from dreamengine.classifier.clip import clip_probs
    from dreamengine.classifier.config import ClassifierConfig
    from dreamengine.classifier.ensemble import SoundEnsemble, SoundModel, load_sound_bundle
    from dreamengine.classifier.model import SoundCNN
    from dreamengine.classifier.stream import StreamingClassifier

_HOMES = {
    "ClassifierConfig": "config",
    "SoundCNN": "model",
    "SoundEnsemble": "ensemble",
    "SoundModel": "ensemble",
    "load_sound_bundle": "ensemble",
    "StreamingClassifier": "stream",
    "clip_probs": "clip",
}

__all__ = ["ClassifierConfig", "SoundCNN", "SoundEnsemble", "SoundModel", "StreamingClassifier",
           "clip_probs", "load_sound_bundle"]


__getattr__ = lazy_names(__name__, _HOMES)
