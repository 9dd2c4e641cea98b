"""Frame-rate-independent smoothing, top-k with a floor, and the mapping to image classes."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from dreamengine.selection.mapping import ClassMap


@dataclass(frozen=True)
class SelectionConfig:
    """How heard probabilities become the dream's targets."""

    attack_s: float = 0.12  # s, time constant while a probability rises
    release_s: float = 1.0  # s, time constant while it falls
    confirm_s: float = 0.06  # s; a raw probability held this long is trusted at once (0 = off)
    confirm_hits: int = 0  # hops within confirm_s, the newest among them, that must reach a
    #                        value for it to be trusted (0 = every one; at least 2 otherwise)
    top_k: int = 3  # at most this many sound labels steer at once
    floor: float = 0.3  # smoothed probability below which a label steers nothing
    temperature: float = 0.5  # target weights ∝ w^(1/T): < 1 favours the loudest, > 1 evens out
    # a sound label mapped to several image classes (engine → car, bus, …) dreams one of them
    # at a time, drawn by its weight each time the label is heard anew; True blends them all
    blend_alternatives: bool = False  # true: blend a label's image classes; false: one at a time
    hold_s: float = 2.0  # s the last target keeps steering once nothing is heard above the
    #                      floor (the pauses between barks), before the dream drifts
    keep_choice_s: float = 4.0  # s a label keeps its drawn image class after it stops steering:
    #                             a sound that comes and goes (barks, a flock) keeps one picture
    weights: tuple[str, ...] = ()  # user class weights, "label:factor" (e.g. "dog:2", "rain:0.5")
    pins: tuple[str, ...] = ()  # classes always dreamed, as if heard at full strength
    mutes: tuple[str, ...] = ()  # classes never dreamed (as sound labels and as image classes)
    gate_db: float = -55.0  # dBFS RMS; quieter input counts as silence: nothing heard, drift


@dataclass(frozen=True)
class Selection:
    """One selection step's result; ``target`` weights sum to 1, or it is empty (drift)."""

    probs: np.ndarray  # [n_sound_labels] smoothed probabilities
    target: dict[str, float] = field(default_factory=dict)  # image class → weight


def smoothing_alpha(dt: float, tau: float) -> float:
    """Blend factor of a one-pole low-pass with time constant ``tau`` over ``dt`` seconds.

    Exponential in ``dt``, so two steps of ``dt`` equal one step of ``2 dt``.
    """
    if tau <= 0:
        return 1.0
    return 1.0 - math.exp(-dt / tau)


class Selector:
    """Smooths probability vectors and picks the image classes to dream."""

    def __init__(self, config: SelectionConfig, labels: tuple[str, ...], class_map: ClassMap,
                 seed: int = 0):
        self.config = config
        self.labels = labels
        self.class_map = class_map
        self.smoothed = np.zeros(len(labels), dtype=np.float32)
        self._recent: deque[np.ndarray] = deque()  # the newest raw vectors, newest last
        self._rng = np.random.default_rng(seed)  # draws among a label's alternatives
        self._chosen: dict[str, tuple[tuple[str, float], ...]] = {}  # each label's image classes
        self._steered_at: dict[str, float] = {}  # when each label last steered (s of updates)
        self._time = 0.0
        self._last_target: tuple[float, dict[str, float]] = (-math.inf, {})  # when, what

    def retune(self, config: SelectionConfig) -> None:
        """New settings (a live control change), from the next update on; the smoothed state
        carries over (a label's drawn image class too, unless the way of choosing changed)."""
        if config.blend_alternatives != self.config.blend_alternatives:
            self._chosen.clear()
        self.config = config

    def update(self, probs: np.ndarray, dt: float, level_db: float | None = None) -> Selection:
        """Fold in one ``[n_labels]`` vector observed ``dt`` seconds after the last one.

        Input quieter than ``gate_db`` (``level_db``, dBFS RMS, when given) counts as silence:
        the vector is taken as all zeros, so what was heard releases and the dream drifts
        (a dead microphone must not steer the show with whatever the classifier makes of it).

        Rises follow ``attack_s`` and falls ``release_s`` (one-pole low-passes), except that a
        raw probability that has stayed at or above some value over the last ``confirm_s``
        (on ``confirm_hits`` of its hops, when set) lifts the smoothed one to that value at
        once: a sound heard on consecutive hops shows without the attack's lag, while a
        one-hop blip still only nudges it.
        """
        if probs.shape != self.smoothed.shape:
            raise ValueError(f"expected {self.smoothed.shape} probabilities, got {probs.shape}")
        self._time += max(dt, 0.0)
        raw = probs.astype(np.float32)
        if level_db is not None and level_db < self.config.gate_db:
            raw = np.zeros_like(raw)
        a_up = smoothing_alpha(dt, self.config.attack_s)
        a_down = smoothing_alpha(dt, self.config.release_s)
        alpha = np.where(raw > self.smoothed, a_up, a_down).astype(np.float32)
        self.smoothed = self.smoothed + alpha * (raw - self.smoothed)
        held = self._held(raw, dt)
        if held is not None:
            self.smoothed = np.maximum(self.smoothed, held)
        return Selection(self.smoothed.copy(), self._held_target(self.target(self.smoothed)))

    def _held_target(self, target: dict[str, float]) -> dict[str, float]:
        """``target``, or while it is empty the last non-empty one for up to ``hold_s``: a
        pause between barks keeps the dog (drift blurs the canvas), a longer silence drifts."""
        if target:
            self._last_target = (self._time, target)
            return target
        when, last = self._last_target
        if self._time - when > self.config.hold_s:
            return {}
        return normalised({k: v for k, v in last.items() if k not in self.config.mutes})

    def _held(self, raw: np.ndarray, dt: float) -> np.ndarray | None:
        """Per label, the value reached by the newest raw vector and by ``confirm_hits`` of
        those spanning the last ``confirm_s`` (the newest plus enough earlier ones at this
        ``dt``; all of them, their minimum, when ``confirm_hits`` is 0 or more than there are),
        or None while confirmation is off or the history is still shorter than that.

        Needing every hop makes one low hop in a flickering classifier output restart the
        wait; needing some of them (never fewer than two: one hop alone is a blip) lets it
        through. The newest must reach the value too, or a sound that has stopped would be
        held up for the rest of the span instead of released."""
        confirm = self.config.confirm_s
        if confirm <= 0 or dt <= 0:
            self._recent.clear()
            return None
        need = 1 + math.ceil(confirm / dt - 1e-6)
        self._recent.append(raw)
        while len(self._recent) > need:
            self._recent.popleft()
        if len(self._recent) < need:
            return None
        hits = self.config.confirm_hits
        if hits <= 0 or hits >= need:
            return np.min(np.stack(self._recent), axis=0)
        reached = np.sort(np.stack(self._recent), axis=0)[-max(hits, 2)]
        return np.minimum(raw, reached)

    def target(self, smoothed: np.ndarray) -> dict[str, float]:
        """Top-k unmuted labels above the floor, mapped to image classes, times the user
        weights, plus the pins, sharpened or evened by the temperature, normalised to 1."""
        cfg = self.config
        mutes = set(cfg.mutes)
        gains = class_weights(cfg.weights)
        heard = [i for i in np.argsort(-smoothed, kind="stable") if self.labels[i] not in mutes]
        steering = [self.labels[i] for i in heard[: cfg.top_k] if smoothed[i] >= cfg.floor]
        self._forget_choices(steering)
        for name in steering:
            self._chosen[name] = self._image_classes(name)
        weights: dict[str, float] = {}
        for name in steering:
            p = float(smoothed[self.labels.index(name)])
            for image_class, w in self._chosen[name]:
                weights[image_class] = weights.get(image_class, 0.0) + p * w
        for pin in cfg.pins:
            weights[pin] = max(weights.get(pin, 0.0), 1.0)
        weights = {k: v * gains.get(k, 1.0) for k, v in weights.items() if k not in mutes}
        inv_t = 1.0 / max(cfg.temperature, 1e-3)
        return normalised({k: v**inv_t for k, v in weights.items() if v > 0})

    def _forget_choices(self, steering: list[str]) -> None:
        """Note the ``steering`` labels as heard now, and drop the drawn image class of every
        label silent for longer than ``keep_choice_s``, so it is drawn anew when it returns."""
        for name in steering:
            self._steered_at[name] = self._time
        for name in list(self._chosen):
            if self._time - self._steered_at.get(name, -math.inf) > self.config.keep_choice_s:
                del self._chosen[name]

    def _image_classes(self, label: str) -> tuple[tuple[str, float], ...]:
        """What ``label`` dreams while it is heard: its whole mapping (``blend_alternatives``),
        or one of its unmuted image classes, drawn by weight when it is first heard and kept
        until it has been silent for ``keep_choice_s``, so one picture shows one thing instead
        of a chimera, and a sound that comes and goes does not switch pictures."""
        kept = self._chosen.get(label)
        if kept is not None and not any(k in self.config.mutes for k, _ in kept):
            return kept
        options = [(k, w) for k, w in self.class_map.targets(label)
                   if w > 0 and k not in self.config.mutes]
        if self.config.blend_alternatives or len(options) <= 1:
            return tuple(options)
        p = np.array([w for _, w in options], dtype=np.float64)
        pick = int(self._rng.choice(len(options), p=p / p.sum()))
        return ((options[pick][0], 1.0),)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def normalised(weights: dict[str, float]) -> dict[str, float]:
    """``weights`` scaled to sum to 1; empty when they sum to nothing (drift)."""
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()} if total > 0 else {}


def class_weights(items: tuple[str, ...] | list[str], bare: float | None = None
                  ) -> dict[str, float]:
    """``("dog:2", "rain:0.5")`` → ``{"dog": 2.0, "rain": 0.5}``; a malformed item raises a
    ValueError naming it. With ``bare``, a name without ``:factor`` gets that weight. Names may
    hold a colon themselves (``imagenet:umbrella:0.5``): the factor is what follows the last
    one, when that is a number."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.rpartition(":")
        if not sep or (bare is not None and not _number(value)):
            name, sep = item, ""
        try:
            factor = float(value) if sep else (bare if bare is not None else -1.0)
        except ValueError:
            factor = -1.0
        if not name or not 0 <= factor < math.inf:
            raise ValueError(f"class weight {item!r}: the factor must be a finite number >= 0 "
                             "('label:factor')")
        out[name.strip()] = factor
    return out
