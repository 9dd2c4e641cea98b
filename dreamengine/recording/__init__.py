"""Keeping what was shown: PNG sequences, the per-frame log, sessions for replay, video."""

from dreamengine.recording.files import atomic_write_bytes, prepare_output_dir
from dreamengine.recording.framelog import FrameLog
from dreamengine.recording.png import PngSequenceWriter, RecordingConfig, encode_png
from dreamengine.recording.session import (
    RecordingSummary,
    SessionRecorder,
    claim_session_dir,
    read_session,
)
from dreamengine.recording.video import encode_video, ffmpeg_available

__all__ = ["FrameLog", "PngSequenceWriter", "RecordingConfig", "RecordingSummary",
           "SessionRecorder", "atomic_write_bytes", "claim_session_dir", "encode_png",
           "encode_video", "ffmpeg_available", "prepare_output_dir", "read_session"]
