"""Streaming features: a log-mel front end updated hop by hop, and the fast path's dynamics."""

from dreamengine.features.dynamics import Drive, Dynamics, DynamicsConfig
from dreamengine.features.melspec import MelConfig, StreamingLogMel, mel_filterbank

__all__ = ["Drive", "Dynamics", "DynamicsConfig", "MelConfig", "StreamingLogMel",
           "mel_filterbank"]
