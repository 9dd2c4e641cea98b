"""``replay``: re-render a recorded session offline, frame for frame, at any size.

The session's latents are decoded again by the same generator, its keyframes arrive at their
recorded times and every frame is drawn with its recorded :class:`FrameParams`, so at the
recorded size the frames are identical and at another size they are the same show, resampled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from dreamengine.config import apply_overrides, flatten
from dreamengine.engine.build import load_image_prior
from dreamengine.engine.config import EngineConfig
from dreamengine.engine.dream import image_of
from dreamengine.engine.show import Show
from dreamengine.errors import DreamengineError
from dreamengine.models import ImagePrior
from dreamengine.recording import RecordingSummary, SessionRecorder, read_session
from dreamengine.render import FrameParams, Renderer, create_headless_context


@dataclass(frozen=True)
class ReplaySummary:
    frames: int
    keyframes: int
    recording: RecordingSummary
    warnings: list[str]


def frame_params_from(record: dict[str, Any]) -> FrameParams:
    raw = dict(record["render"])
    raw["drift"] = tuple(raw["drift"])
    return FrameParams(**raw)


def replay_session(session: Path, out_dir: Path, size: tuple[int, int] | None,
                   progress: Callable[[int, int], None] | None = None) -> ReplaySummary:
    """Re-render ``session`` into ``out_dir`` at ``size`` (None: the recorded size)."""
    meta, frames, keyframes, latents = read_session(session)
    config = apply_overrides(EngineConfig(), flatten(meta["config"]))
    size = size or (int(meta["size"][0]), int(meta["size"][1]))
    torch.set_num_threads(int(meta.get("torch_threads", 1)))
    warnings: list[str] = []
    prior = _rebuild_prior(meta, config, warnings)
    replay_meta = {**meta, "size": list(size), "replayed_from": str(session)}
    recorder = SessionRecorder(out_dir, config.recording, replay_meta, live=False)
    ctx = create_headless_context()
    renderer = Renderer(ctx, size, prior.config.generator.size, config.render)
    show = Show(renderer, recorder)
    pending = iter(keyframes)
    next_key = next(pending, None)
    try:
        for n, record in enumerate(frames):
            while next_key is not None and next_key["index"] <= record["keyframe"]:
                h = torch.from_numpy(latents[next_key["latent_row"]].copy())[None]
                show.keyframe(image_of(prior, h), next_key["t"], latents[next_key["latent_row"]],
                              {"target": next_key.get("target", {})})
                next_key = next(pending, None)
            extra = {k: v for k, v in record.items()
                     if k not in ("file", "index", "t", "render", "keyframe", "record")}
            show.frame(record["index"], frame_params_from(record), extra,
                       save=record.get("record", True))
            if progress is not None:
                progress(n + 1, len(frames))
    finally:
        summary = recorder.close()
        renderer.release()
        ctx.release()
    return ReplaySummary(len(frames), show.keyframes, summary, warnings)


def _rebuild_prior(meta: dict[str, Any], config: EngineConfig,
                   warnings: list[str]) -> ImagePrior:
    """The recorded session's generator: the same seeded random nets, or the same bundle."""
    source = meta.get("image_prior", {})
    if source.get("path") is None:
        prior = ImagePrior.random(config.prior, int(source.get("random_seed", 0)))
    else:
        config = apply_overrides(config, {"paths.image_prior": source["path"]})
        prior, now = load_image_prior(config, torch.device("cpu"), warnings)
        if source.get("sha256") and now.get("sha256") != source["sha256"]:
            raise DreamengineError(
                f"the session was recorded with image prior {source['path']} (sha256 "
                f"{source['sha256'][:12]}…), which has changed since; replay needs that bundle"
            )
    if int(meta["latent_dim"]) != prior.config.generator.latent_dim:
        raise DreamengineError("the session's latents do not fit the image prior")
    return prior
