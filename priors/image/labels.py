"""Keyword table that maps source names to image classes, and the matcher that applies it.

An item's ``text`` (emoji names + subcategory, stamp file stem + folder, GCompris file stem +
activity folder) is split into word tokens (``screwDriver`` → ``screw driver``, ``car10`` →
``car 10``; the unsplit word is kept too). Rules are tried in order and the first phrase whose
words appear consecutively wins, so specific phrases come before general ones ("police car" →
siren before "car" → car_horn; "party horn" → crowd and "postal horn" → car_horn before "horn" →
brass; chickens → farm_animal before birds). ``EXCLUDE`` phrases veto a label entirely (the item
stays unlabelled). Every match is counted per phrase for auditing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

SCENE = (
    "dog", "bird", "siren", "car_horn", "engine", "tools", "music", "speech", "rain", "crowd",
    "explosion", "farm_animal", "other",
)  # fmt: skip
MUSIC = ("drums", "guitar", "keys", "strings", "brass", "woodwind", "voice")
LABELS = SCENE + MUSIC

# Ordered (label, phrases). First matching phrase wins.
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("siren", ("police car", "sedan police", "ambulance", "fire engine", "fireengine",
               "firetruck", "fire truck", "rotating light", "siren", "police light")),
    ("crowd", ("party horn", "party hat")),
    ("engine", ("bullet nose",)),
    ("car_horn", ("postal horn", "car horn", "megaphone", "mega", "loudspeaker", "loud sound",
                  "speaker")),
    ("drums", ("drum", "drums", "drumkit", "drum kit", "snare", "bongo", "timpani", "cymbal",
               "tambourine", "maracas", "castanets", "tomtom", "drumhead")),
    ("guitar", ("guitar", "banjo", "ukulele")),
    ("keys", ("musical keyboard", "piano", "organ", "accordion", "synthesizer")),
    ("strings", ("violin", "viola", "cello", "harp", "double bass", "contrabass")),
    ("brass", ("trumpet", "trombone", "tuba", "horn", "bugle")),
    ("woodwind", ("saxophone", "flute", "clarinet", "bassoon", "oboe", "harmonica", "recorder")),
    ("voice", ("singer", "singing", "sings", "choir")),
    ("explosion", ("collision", "boom", "bomb", "explosion", "fireworks", "firework", "sparkler",
                   "firecracker", "gun", "pistol", "fire", "flame", "crash", "bullet",
                   "naval shell", "dynamite", "exploding head")),
    ("music", ("musical note", "note", "notes", "musical score", "headphones", "headphone",
               "radio", "microphone", "studio microphone", "level slider", "control knobs",
               "music", "clef", "metronome", "band", "orchestra", "xylophone")),
    ("dog", ("dog", "puppy", "poodle", "wolf", "dingo", "chien")),
    ("farm_animal", ("cow", "calf", "bull", "ox", "sheep", "lamb", "ram", "goat", "pig", "piglet",
                     "horse", "racehorse", "pony", "donkey", "chicken", "hen", "rooster", "chick",
                     "zebu", "yak", "water buffalo")),
    ("bird", ("bird", "birds", "bluebird", "bluebirds", "redbird", "blackbird", "penguin", "dove",
              "eagle", "duck", "owl", "peacock", "peahen", "parrot", "swan", "swans", "dodo",
              "flamingo", "goose", "gander", "gosling", "drake", "turkey", "pelican", "heron",
              "crow", "magpie", "pigeon", "seagull", "gull", "lark", "swallow", "cuckoo",
              "ostrich", "vulture", "toucan", "tucan", "macaw", "kingfisher", "harrier",
              "spoonbills", "quetzal", "lorikeet", "rosella", "nandou", "guineafowl", "crane")),
    ("engine", ("racing car", "railway car", "racing motorcycle", "motorcycle", "motorbike",
                "motor scooter", "truck", "trucks", "lorry", "tractor", "locomotive", "loco",
                "train", "bullettrain", "metro", "light rail", "tram", "monorail",
                "mountain railway", "engine", "fuelpump", "fuel pump", "motorway",
                "auto rickshaw", "bulldozer", "forklift", "dumper", "cement mixer", "tow truck",
                "garbagetruck", "f 1 car", "indycar", "wagon", "speedboat", "motor boat",
                "tugboat", "vehicles construction")),
    ("car_horn", ("car", "cars", "automobile", "taxi", "bus", "minibus", "trolleybus",
                  "schoolbus", "sedan", "sportscar")),
    ("engine", ("traffic",)),
    ("tools", ("hammer", "wrench", "spanner", "pick", "saw", "drill", "screwdriver",
               "screw driver", "pliers", "plier", "plyers", "toolbox", "nut and bolt", "axe",
               "shovel", "spade", "mallet", "measuring tape", "construction", "tools",
               "cutting tool", "side cutter", "chainsaw", "jackhammer", "compression")),
    ("speech", ("speaking head", "speech balloon", "speech bubble", "scream balloon", "lips",
                "mouth", "biting lip", "talking", "anger bubble")),
    ("rain", ("rain", "raining", "umbrella", "droplet", "drop", "water", "wave", "waves",
              "ocean", "wind", "dash", "storm", "tornado", "cyclone", "cloud", "shower",
              "sweat drops")),
    ("crowd", ("family", "people hugging", "holding hands", "dancers", "partying", "party",
               "confetti", "tada", "clap", "clapping", "raised hands", "busts in silhouette",
               "hugging", "crowd", "children crossing", "audience", "handshake")),
)  # fmt: skip

# Phrases that keep an item unlabelled although a rule would match (false friends).
EXCLUDE = (
    "heart on fire", "fire extinguisher", "carousel horse", "umbrella on ground",
    "beach with umbrella", "drop of blood", "potable water", "wind chime", "face in clouds",
    "note pad", "radio button", "roast turkey", "cloud quiet", "scissors", "tweezer",
    "nail cutter", "multimeter", "spray", "paintbrush", "family resource", "land safe",
    "partying face", "water polo", "snow cloud", "sweat smile", "hot dog", "keyboard computer",
    "sparkles", "mouse trap", "kick scooter", "fish cake", "pick up", "waving hand",
    "over mouth", "no mouth", "open mouth", "zipper mouth", "symbols on mouth", "diagonal mouth",
    "oil drum", "boy", "girl", "family adult", "transport water", "water closet", "wavy dash",
    "fluttering in wind", "hair pick", "spade suit", "mute", "cancellation stroke",
    "traffic cone", "wheel tractor", "wavy mouth", "covering closed lips", "money mouth",
    "hugging face",
)  # fmt: skip

# Exact overrides by an item's original name (or its trailing path), where words cannot tell.
OVERRIDES: dict[str, str | None] = {
    "family": None,  # the Noto "family" emoji is a grey keycap-like silhouette, not a crowd
    "vehicles/auto/beetle.png": "car_horn",  # the VW car, not the insect
    "instruments/resource/triangle.svg": "drums",  # percussion triangle, not the shape
    "chronos/resource/images/renault1899.svg": "car_horn",
    "chronos/resource/images/benz1885.svg": "car_horn",
    "chronos/resource/images/lancia1923.svg": "car_horn",
    "chronos/resource/images/1955ds19.svg": "car_horn",
    "chronos/resource/images/fardier.svg": "engine",
    "chronos/resource/images/bolle1878.svg": "engine",
}

# Unlabelled items with these words are not used as `other` (too close to a real class).
NOT_OTHER = (
    "vehicles", "airplane", "plane", "helicopter", "ship", "boat", "music", "instrument",
    "whistle", "bell", "mute", "bicycle", "bike", "scooter", "fire", "horn", "sound", "tool",
    "water", "snow", "lightning", "zap", "thunder", "police", "party", "rocket", "emergency",
)  # fmt: skip


def tokenise(text: str) -> list[list[str]]:
    """Split ``text`` into token runs: one per ``|`` segment, with split and unsplit forms."""
    runs = []
    for segment in text.split("|"):
        split = re.sub(r"([a-z])([A-Z])", r"\1 \2", segment)
        split = re.sub(r"([A-Za-z])(\d)|(\d)([A-Za-z])", r"\1\3 \2\4", split)
        for form in (split, segment):
            words = re.findall(r"[a-z0-9]+", form.lower())
            if words:
                runs.append(words)
    return runs


def has_phrase(runs: list[list[str]], phrase: str) -> bool:
    """True when the words of ``phrase`` appear consecutively in one token run."""
    want = phrase.split()
    n = len(want)
    return any(run[i : i + n] == want for run in runs for i in range(len(run) - n + 1))


@dataclass
class Labeller:
    """Applies :data:`RULES` and keeps per-phrase match counts for the audit."""

    hits: Counter = field(default_factory=Counter)
    vetoed: Counter = field(default_factory=Counter)

    def label(self, text: str, name: str = "") -> str | None:
        for suffix, label in OVERRIDES.items():
            if name == suffix or name.endswith("/" + suffix):
                self.hits[f"{label}: override {suffix}"] += 1
                return label
        runs = tokenise(text)
        for phrase in EXCLUDE:
            if has_phrase(runs, phrase):
                self.vetoed[phrase] += 1
                return None
        for label, phrases in RULES:
            for phrase in phrases:
                if has_phrase(runs, phrase):
                    self.hits[f"{label}: {phrase}"] += 1
                    return label
        return None


def other_eligible(text: str) -> bool:
    """Whether an unlabelled item may be sampled into ``other``."""
    runs = tokenise(text)
    return not any(has_phrase(runs, word) for word in NOT_OTHER)
