"""The explicit keyword table that labels real recordings by their file and folder names.

A name is turned into lower-case word tokens (camelCase and digits split off, so
``TraficHigh3.wav`` reads ``trafic high``) and prefixed with its package, ``PACKAGE|tokens``.
Rules are tried in order and the FIRST match wins, so specific rules (``car horn``) sit above
general ones (``horn``, ``car``). A rule's labels ``()`` means DROP: junk, music we cannot label
by instrument, or sounds whose content we could not confirm. Anything that matches no rule is a
generic sound effect and becomes ``other`` (kept to a bounded number by the build).
Children of ``music`` always carry ``music`` too (``with_parent``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCENE_LABELS = (
    "dog", "bird", "siren", "car_horn", "engine", "tools", "music",
    "speech", "rain", "crowd", "explosion", "farm_animal", "other",
)  # fmt: skip
MUSIC_CHILDREN = ("drums", "guitar", "keys", "strings", "brass", "woodwind", "voice")
ALL_LABELS = SCENE_LABELS + MUSIC_CHILDREN
DROP: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """Labels for names whose ``PACKAGE|tokens`` text matches ``pattern`` (a regex)."""

    pattern: str
    labels: tuple[str, ...]


def _r(pattern: str, *labels: str) -> Rule:
    return Rule(pattern, labels)


# fmt: off
RULES: tuple[Rule, ...] = (
    # --- speech: spoken descriptions and words, in many languages
    _r(r"^tuxpaint-stamps-default\|.*\bdesc\b", "speech"),
    _r(r"^tuxpaint-stamps-default\|.*\b(alphabets|math)\b", "speech"),
    _r(r"^ktuberling-data\|", "speech"),
    # --- unsure content (voice lines, mixed ambiences, jingles): dropped, not guessed
    _r(r"^tuxpaint-stamps-default\|.*\b(faces|dreydl|apollo|final roll call)\b"),
    _r(r"^tuxpaint-stamps-default\|.*\b(hard candy|gift|santahat|ghost)\b"),
    _r(r"^gcompris-qt-data\|.*\b(tuxok|youcannot|chronos|la pause|realrainbow|intro)\b"),
    _r(r"^megaglest-data\|.*\b(cow|pig|chicken|sheep)\b.*\b(ack|select|die)\b", "farm_animal"),
    _r(r"^megaglest-data\|.*\b(ack|select|summon|heal)\b"),
    _r(r"^megaglest-data\|.*\b(day|night|nightime|desertday|hell|good morning)\b"),
    _r(r"^wesnoth-1\.16-data\|.*\bambient (morning|night|ship)\b"),
    _r(r"^widelands-data\|.*\b(under attack|site occupied)\b"),
    _r(r"^openttd-opensfx\|.*\b(good year|bad year)\b"),
    _r(r"^lincity-ng-data\|.*\b(residential|shanty|commune|health|university|market)\b"),
    _r(r"^lincity-ng-data\|.*\b(fire station|dirt track|water)\b"),
    _r(r"^tuxpaint-stamps-default\|.*\b(xing|no uturn|checkeredflag)\b"),
    # --- real instrument recordings (before the generic music drop below)
    _r(r"\b(drum|drums|drumkit|wardrums|snare|bongo|timpani|cymbal|castanets)\b",
       "music", "drums"),
    _r(r"\b(maracas|tambourine|triangle|tomtom)\b", "music", "drums"),
    _r(r"\b(guitar|banjo)\b", "music", "guitar"),
    _r(r"\b(piano|organ)\b", "music", "keys"),
    _r(r"\b(violin|viola|cello|harp|contrabass)\b", "music", "strings"),
    _r(r"\b(trumpet|trombone|tuba|horn signals)\b", "music", "brass"),
    _r(r"^gcompris-qt-data\|.*\binstruments\b.*\bhorn\b", "music", "brass"),
    _r(r"\b(flute|traversiere|clarinet|oboe|bassoon|saxophone)\b", "music", "woodwind"),
    _r(r"\b(accordion|harmonica|xylofon|xylophone)\b", "music"),
    # --- music tracks and loops without instrument labels: dropped
    _r(r"\b(music|stdmusic|ingame|menu|fanfare|jingle|gamestart)\b"),
    # --- siren and car horn (very few real ones)
    _r(r"\b(siren|firetruck)\b", "siren"),
    _r(r"\bpull away with horn\b", "engine", "car_horn"),
    _r(r"\b(car horn|claxon)\b", "car_horn"),
    _r(r"\b(ship|ferry) horn\b", "other"),
    # --- sound effects that contain a keyword below but are something else
    _r(r"\b(footstep|breakdown|plane wheels|wind mill|water blast|inh|fox|gryphon)\b", "other"),
    _r(r"\b(splat|cat)\b", "other"),
    _r(r"^wesnoth-1\.16-data\|.*\bdrake\b", "other"),
    _r(r"\b(mining machinery|machine walk|bathyscape)\b", "other"),
    # --- vehicles and traffic
    _r(r"\b(trafic|traffic|car|cars|engine|bus|truck|train|locomotive|helicopter|jet)\b",
       "engine"),
    _r(r"\b(propeller plane|parkland plane|maglev|monorail|diesel|tread|rail train)\b", "engine"),
    # --- tools
    _r(r"\b(hammer|hammering|jackhammer|mallet|drill|saw|sawing|sawmill|benchsaw|chainsaw)\b",
       "tools"),
    _r(r"\b(smith|blacksmith|toolsmith|anvil|stonecutter|stonemason|pickaxe|woodcutting)\b",
       "tools"),
    _r(r"\b(building bridge|worker build|worker mine|technician mine|harvest wood)\b", "tools"),
    # --- explosions, gun shots, fireworks
    _r(r"\b(explosion|explode|gunshot|gun|cannon|fireworks|thunderstick|dragonstick)\b",
       "explosion"),
    _r(r"^freeciv-data\|.*\b(expl|can|mg|mortar)\b", "explosion"),
    # --- rain, running water, waves, wind
    _r(r"\b(rain|wind|heavy wind|water|waves|stream|river|lake|water fill|storm)\b", "rain"),
    # --- crowds
    _r(r"\b(applause|applauses|crowd|croud|cheering|cheer|oooh|school)\b", "crowd"),
    # --- animals: farm animals before birds (rooster and hen are farm animals)
    _r(r"\b(dog|dogs|bark|wolf|coyote)\b", "dog"),
    _r(r"\b(rooster|hen|chicken|chickens|turkey)\b", "farm_animal"),
    _r(r"\b(cow|sheep|lamb|ram|goat|mountaingoat|pig|sow|horse|donkey|ox|bull)\b",
       "farm_animal"),
    _r(r"\b(bird|birds|crow|owl|hawk|eagle|duck|drake|gander|goose|seagull|cuckoo)\b",
       "bird"),
    _r(r"\b(blackbird|lark|quetzal|nandou|tucan|heron|vulture|penguin|parrot|dove)\b", "bird"),
    _r(r"\b(farm animal)\b", "farm_animal"),
    _r(r"^lincity-ng-data\|.*\b(farm|organic farm)\b", "farm_animal"),
)
# fmt: on

_COMPILED = tuple((re.compile(rule.pattern), rule) for rule in RULES)


def tokens(name: str) -> str:
    """Word tokens of a path or title: ``LRRain_in_garden_01`` -> ``lr rain in garden``.
    """
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    words = re.split(r"[^a-zA-Z]+", spaced.lower())
    return " ".join(w for w in words if w)


def match(package: str, name: str) -> tuple[tuple[str, ...], str]:
    """Labels for a file (``()`` = drop) and the rule pattern that decided (``*`` = fallback)."""
    text = f"{package}|{tokens(name)}"
    for regex, rule in _COMPILED:
        if regex.search(text):
            return with_parent(rule.labels), rule.pattern
    return ("other",), "*"


def with_parent(labels: tuple[str, ...]) -> tuple[str, ...]:
    """Add ``music`` whenever a music child is present; keep the vocabulary order."""
    found = set(labels)
    if found & set(MUSIC_CHILDREN):
        found.add("music")
    unknown = found - set(ALL_LABELS)
    if unknown:
        raise ValueError(f"labels outside the vocabulary: {sorted(unknown)}")
    return tuple(label for label in ALL_LABELS if label in found)
