"""Synthetic speech from espeak-ng: many languages, voice variants, speeds and pitches.

Sentences come from tuxpaint-stamps-default's stamp description files (``LANG.utf8=text``
lines, already unpacked for the real recordings), so each language speaks its own text; English
also gets random sentences from a tiny grammar. Clip ``index`` fixes every random choice.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from clips import Piece, decode, make_pieces

VARIANTS = ("", "+m1", "+m2", "+m3", "+m4", "+m5", "+f1", "+f2", "+f3", "+f4", "+f5", "+klatt",
            "+klatt3", "+croak", "+whisper", "+Andy", "+Denis", "+Annie", "+Michael", "+Linda",
            "+grandma", "+grandpa", "+Steph", "+Gene", "+Max")  # fmt: skip
SUBJECTS = ("the dog", "my friend", "a small bird", "the old man", "our teacher", "the band",
            "the city", "a red car", "the children", "this machine")  # fmt: skip
VERBS = ("is waiting near", "walked past", "will look at", "talked about", "found",
         "is singing to", "drove into", "heard")  # fmt: skip
OBJECTS = ("the station", "a quiet garden", "the river", "the market square", "the tall tower",
           "a yellow house", "the morning train", "the open window")  # fmt: skip


def _stamp_texts(path: Path) -> list[tuple[str, str]]:
    """``(language, text)`` pairs of one stamp file: first plain line is English."""
    pairs = []
    for line in path.read_text(errors="replace").splitlines():
        if ".utf8=" in line:
            lang, text = line.split(".utf8=", 1)
            pairs.append((lang.split("_")[0].split("@")[0], text.strip().strip("|")))
        elif line.strip() and "=" not in line and not pairs:
            pairs.append(("en", line.strip()))
    return [(lang, text) for lang, text in pairs if len(text) > 3]


def description_texts(tuxpaint_root: Path, languages: set[str]) -> dict[str, list[str]]:
    """``{language: [sentences]}`` from tuxpaint's stamp ``.txt`` files, for ``languages``."""
    texts: dict[str, list[str]] = defaultdict(list)
    for path in sorted(tuxpaint_root.rglob("*.txt")):
        for lang, text in _stamp_texts(path):
            if lang in languages:
                texts[lang].append(text)
    return dict(texts)


def espeak_languages() -> set[str]:
    """Language codes espeak-ng can speak."""
    done = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True, check=True)
    found = {line.split()[1] for line in done.stdout.splitlines()[1:] if line.split()}
    return found | {"en"}  # "en" is espeak-ng's alias for British English


def _english(rng: np.random.Generator) -> str:
    words = [rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS)]
    return " ".join(str(w) for w in words).capitalize() + "."


def speak(index: int, texts: dict[str, list[str]]) -> list[Piece]:
    """Render one random sentence with a random espeak-ng voice; ``texts`` from above."""
    rng = np.random.default_rng([4, index])
    lang = str(rng.choice(sorted(texts)))
    pool = texts[lang]
    text = " ".join(str(rng.choice(pool)) for _ in range(int(rng.integers(1, 4))))
    if lang == "en" and rng.random() < 0.5:
        text = _english(rng)
    voice = lang + str(rng.choice(VARIANTS))
    speed, pitch = int(rng.integers(110, 230)), int(rng.integers(20, 80))
    args = ["-v", voice, "-s", str(speed), "-p", str(pitch)]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", *args, "-w", str(out), text], check=True, capture_output=True)
        return make_pieces(*decode(out))
