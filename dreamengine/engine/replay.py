"""``replay``: re-render a recorded session offline, frame for frame, at any size.

A thin driver of :class:`~dreamengine.engine.pipeline.Pipeline` at the recorded times. The
session's latents are decoded again by the same generator (a canvas dream's keyframes are
re-simulated from its snapshots and each keyframe's target, parameters, motion and counter), its
keyframes arrive at their recorded times and every frame is drawn with its recorded
:class:`FrameParams`, so at the recorded size the frames are identical and at another size they
are the same show, resampled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from dreamengine.config import apply_overrides, flatten
from dreamengine.dream.state import Dream, ImageModel
from dreamengine.engine.build import load_image_prior, load_vision
from dreamengine.engine.config import EngineConfig
from dreamengine.engine.pipeline import FrameInputs, Pipeline, ShownKey
from dreamengine.engine.show import Show
from dreamengine.engine.timing import StageTimer
from dreamengine.errors import DreamengineError
from dreamengine.models import ImagePrior
from dreamengine.recording import RecordingSummary, SessionRecorder, read_session
from dreamengine.recording.frame import FrameRecord
from dreamengine.render import FrameParams, Renderer, create_headless_context
from dreamengine.sampler import SamplerConfig


@dataclass(frozen=True)
class ReplaySummary:
    frames: int
    keyframes: int
    recording: RecordingSummary
    warnings: list[str]


def frame_params_from(render: Mapping[str, Any]) -> FrameParams:
    raw = dict(render)
    raw["drift"] = tuple(raw["drift"])
    return known_fields(FrameParams, raw)


def known_fields(cls: Any, raw: Mapping[str, Any]) -> Any:
    """``cls(**raw)`` without the keys ``cls`` does not have: a session recorded by a later
    version replays with what this one knows (missing keys take their defaults)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in raw.items() if k in names})


class Recorded:
    """Replay's inputs: each frame's recorded values, in order."""

    def __init__(self, records: list[FrameRecord]) -> None:
        self._next = iter(records)

    def inputs(self, t: float, dt: float, timer: StageTimer) -> FrameInputs:
        was = next(self._next)
        return FrameInputs(was.probs, was.target, was.drive, was.sampler,
                           frame_params_from(was.render), recorded=was)


class RecordedDream:
    """Replay's keyframes: each recorded keyframe again, once its frame comes."""

    def __init__(self, dream: Dream, keyframes: list[dict[str, Any]], latents: Any) -> None:
        self.dream, self.latents = dream, latents
        self._pending = iter(keyframes)
        self._next = next(self._pending, None)

    def due(self, t: float, inputs: FrameInputs, timer: StageTimer) -> list[ShownKey]:
        assert inputs.recorded is not None
        shown = []
        while self._next is not None and self._next["index"] <= inputs.recorded.keyframe:
            image, latent = _keyframe_again(self.dream, self._next, self.latents)
            kept = {k: v for k, v in self._next.items()
                    if k not in ("index", "t", "latent_row")}
            shown.append(ShownKey(image, self._next["t"], latent, kept))
            self._next = next(self._pending, None)
        return shown


def replay_session(session: Path, out_dir: Path, size: tuple[int, int] | None,
                   progress: Callable[[int, int], None] | None = None) -> ReplaySummary:
    """Re-render ``session`` into ``out_dir`` at ``size`` (None: the recorded size); a session
    missing a field it needs is an error naming the session and the field."""
    if out_dir.resolve() == session.resolve():  # its frames log would be truncated as it is read
        raise DreamengineError(f"replay {session} into another folder than the session's own")
    try:
        return _replay(session, out_dir, size, progress)
    except KeyError as exc:
        raise DreamengineError(f"session {session} is incomplete: a record lacks {exc}") from None
    except (TypeError, ValueError) as exc:  # a field of the wrong kind, a hand-edited file
        raise DreamengineError(f"session {session} cannot be replayed: {exc}") from None


def _replay(session: Path, out_dir: Path, size: tuple[int, int] | None,
            progress: Callable[[int, int], None] | None) -> ReplaySummary:
    meta, frames, keyframes, latents = read_session(session)
    records = [FrameRecord.from_line(line) for line in frames]
    shown = max((r.keyframe for r in records), default=-1)
    last = int(keyframes[-1]["index"]) if keyframes else -1
    if shown > last:  # from there on the replay would freeze and differ from the recording
        raise DreamengineError(f"session {session}: keyframes.jsonl stops at keyframe {last}, "
                               f"but its frames show keyframes up to {shown} (the file was cut "
                               "short); nothing was replayed")
    config = apply_overrides(EngineConfig(), flatten(meta["config"]))
    size = size or (int(meta["size"][0]), int(meta["size"][1]))
    torch.set_num_threads(int(meta.get("torch_threads", 1)))
    warnings: list[str] = []
    prior = _rebuild_prior(meta, config, warnings)
    dream = Dream(prior, config.sampler, config.dream.seed, torch.device("cpu"),
                  config.dream.canvas_px)
    if int(meta["latent_dim"]) != dream.latent_dim:
        raise DreamengineError("the session's latents do not fit the image model")
    replay_meta = {**meta, "size": list(size), "replayed_from": str(session)}
    recorder = SessionRecorder(out_dir, config.recording, replay_meta, live=False)
    ctx = create_headless_context()
    renderer = Renderer(ctx, size, dream.key_size, config.render)
    pipeline = Pipeline(Recorded(records), RecordedDream(dream, keyframes, latents),
                        Show(renderer, recorder))
    last_t = 0.0
    try:
        for n, record in enumerate(records):
            pipeline.step(record.t, record.t - last_t)
            last_t = record.t
            if progress is not None:
                progress(n + 1, len(records))
    finally:
        summary = recorder.close()
        renderer.release()
        ctx.release()
    return ReplaySummary(len(records), pipeline.show.keyframes, summary, warnings)


def _keyframe_again(dream: Dream, record: dict[str, Any],
                    latents: Any) -> tuple[Any, Any]:
    """A recorded keyframe's image and state: from its stored latent where there is one,
    else re-simulated from the previous keyframe's state."""
    if "latent_row" in record:
        if int(record["latent_row"]) >= len(latents):
            raise DreamengineError(f"the session's latents end before keyframe {record['index']}")
        dream.restore(torch.from_numpy(latents[int(record["latent_row"])].copy()))
        if "seed" in record:
            dream.continue_at(int(record["seed"]), int(record["step"]) + 1)
        return dream.image(), latents[int(record["latent_row"])]
    dream.params = known_fields(SamplerConfig, record["sampler"])
    dream.continue_at(int(record["seed"]), int(record["step"]))
    key = dream.keyframe(record.get("target", {}), float(record["dt"]),
                         bool(record.get("renewed", False)), bool(record.get("coarse", False)))
    return key.image, key.latent


def _rebuild_prior(meta: dict[str, Any], config: EngineConfig,
                   warnings: list[str]) -> ImageModel:
    """The recorded session's image model: the same seeded random nets, or the same file."""
    source = meta.get("image_prior", {})
    if meta.get("dream_backend") == "canvas":
        if source.get("vision", "centernet") == "centernet":
            # a session from before the extra head or the second eye replays without them
            recorded = {"paths.vision": source["path"],
                        "paths.vision_head": source.get("head") or "none",
                        "paths.imagenet_eye": source.get("imagenet_eye") or "none"}
        else:
            recorded = {"dream.vision": source["vision"], "paths.vision_weights": source["path"],
                        "paths.vision_labels": source["labels"]}
        net, now = load_vision(apply_overrides(config, recorded), torch.device("cpu"))
        _check_same(source, now)
        return net
    if source.get("path") is None:
        prior = ImagePrior.random(config.prior, int(source.get("random_seed", 0)))
    else:
        config = apply_overrides(config, {"paths.image_prior": source["path"]})
        prior, now = load_image_prior(config, torch.device("cpu"), warnings)
        _check_same(source, now)
    return prior


def _check_same(source: dict[str, Any], now: dict[str, Any]) -> None:
    if source.get("sha256") and now.get("sha256") != source["sha256"]:
        raise DreamengineError(
            f"the session was recorded with image model {source['path']} (sha256 "
            f"{source['sha256'][:12]}…), which has changed since; replay needs that file")
    for key, what in (("head", "vision head"), ("imagenet_eye", "ImageNet eye")):
        recorded = source.get(f"{key}_sha256")
        if recorded and now.get(f"{key}_sha256") != recorded:
            raise DreamengineError(
                f"the session was recorded with {what} {source[key]} (sha256 "
                f"{recorded[:12]}…), which has changed since; replay needs that file")
