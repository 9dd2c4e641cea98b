"""The sound-label → image-class table, read from an editable TOML file.

Each ``[sound_label]`` table maps image classes to weights, e.g.::

    [siren]
    siren = 1.0

A sound label with an empty table (``[other]``) steers nothing: the dream drifts on the prior.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dreamengine.config import read_toml
from dreamengine.errors import DreamengineError


@dataclass(frozen=True)
class ClassMap:
    """``table[sound_label] = ((image_class, weight), ...)``."""

    table: dict[str, tuple[tuple[str, float], ...]]

    def targets(self, sound_label: str) -> tuple[tuple[str, float], ...]:
        """Image classes (with weights) a sound label drives; unknown labels drive nothing."""
        return self.table.get(sound_label, ())


def load_class_map(path: Path, sound_labels: tuple[str, ...],
                   image_labels: tuple[str, ...]) -> ClassMap:
    """Read and check a class-map TOML file against both vocabularies."""
    raw = read_toml(path, "class map")
    table: dict[str, tuple[tuple[str, float], ...]] = {}
    for sound, targets in raw.items():
        if sound not in sound_labels:
            raise DreamengineError(f"class map {path}: unknown sound label [{sound}]")
        if not isinstance(targets, dict):
            raise DreamengineError(f"class map {path}: [{sound}] must be a table")
        table[sound] = tuple(_checked(path, sound, k, v, image_labels) for k, v in targets.items())
    return ClassMap(table)


def _checked(path: Path, sound: str, image: str, weight: object,
             image_labels: tuple[str, ...]) -> tuple[str, float]:
    if image not in image_labels:
        raise DreamengineError(f"class map {path}: [{sound}] names unknown image class {image!r}")
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
        raise DreamengineError(f"class map {path}: [{sound}].{image} must be a weight >= 0")
    return image, float(weight)
