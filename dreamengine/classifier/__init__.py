"""Sound-event classifier: a small multi-label CNN over log-mel windows, run every few hops."""

from dreamengine.classifier.clip import clip_probs
from dreamengine.classifier.model import ClassifierConfig, SoundCNN
from dreamengine.classifier.stream import StreamingClassifier

__all__ = ["ClassifierConfig", "SoundCNN", "StreamingClassifier", "clip_probs"]
