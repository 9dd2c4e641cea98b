"""Streaming features: a log-mel front end updated hop by hop."""

from dreamengine.features.melspec import MelConfig, StreamingLogMel, mel_filterbank

__all__ = ["MelConfig", "StreamingLogMel", "mel_filterbank"]
