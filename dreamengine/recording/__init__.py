"""Keeping what was shown: PNG sequences, the per-frame log and video, all written atomically."""

from dreamengine.recording.files import atomic_write_bytes, prepare_output_dir
from dreamengine.recording.framelog import FrameLog
from dreamengine.recording.png import PngSequenceWriter, RecordingConfig
from dreamengine.recording.video import encode_video, ffmpeg_available

__all__ = ["FrameLog", "PngSequenceWriter", "RecordingConfig", "atomic_write_bytes",
           "encode_video", "ffmpeg_available", "prepare_output_dir"]
