"""Render the random MIDI of ``midi.py`` into labelled music clips.

Training music uses fluidsynth with FluidR3 GM (Debian ``fluid-soundfont-gm``) and csound's
public-domain GM bank (``csound-soundfont``); the held-out set uses a DIFFERENT synthesiser,
timidity with Debian ``freepats`` (restricted to the programs and drum notes freepats actually
has), with its own seeds, and is never trained on. A clip is a single-instrument phrase for one
music child, or a 2-4 part mix labelled with the union.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from clips import SR, Piece, decode, make_pieces
from keywords import MUSIC_CHILDREN, with_parent
from midi import (
    BASS_PROGRAMS,
    DRUM_KITS,
    PROGRAMS,
    REGISTER,
    SLOT_SECONDS,
    Clip,
    Note,
    bass,
    chords,
    drums,
    melody,
    random_feel,
    write_midi,
)  # fmt: skip

BATCH = 40  # clips per synthesiser call
CHORD_CHILDREN = ("keys", "guitar", "strings", "voice")
#: SoundFont generators that ``with_timbre`` offsets per part, as (low, high) in their own units,
#: and NRPN units per generator unit (SoundFont 2.01 §9.6: cutoff and times go in steps of 2).
TIMBRE = {
    8: ((-4000, 400), 2),  # initial filter cutoff, cents: far darker ... a little brighter
    9: ((0, 120), 1),  # filter resonance, centibels
    34: ((-1200, 3000), 2),  # volume envelope attack, timecents: ×0.5 ... ×5.7
    36: ((-1200, 1200), 2),  # volume envelope decay, timecents
    38: ((-1200, 2400), 2),  # volume envelope release, timecents
    6: ((0, 40), 2),  # vibrato LFO to pitch, cents
}


@dataclass(frozen=True)
class Palette:
    """What a synthesiser can play: melodic programs, drum kits and drum notes (None = all)."""

    programs: frozenset[int]
    kits: tuple[int, ...]
    drum_notes: frozenset[int] | None


FULL_GM = Palette(frozenset(range(128)), DRUM_KITS, None)


def freepats_palette(cfg: Path) -> Palette:
    """Parse a freepats timidity config into the programs and drum notes it defines."""
    programs, notes, section = set(), set(), ""
    for line in cfg.read_text().splitlines():
        if line.startswith(("bank", "drumset")):
            section = line.split()[0]
        found = re.match(r"\s*(\d+)\s+\S+\.pat", line)
        if found:
            (notes if section == "drumset" else programs).add(int(found.group(1)))
    return Palette(frozenset(programs), (0,), frozenset(notes))


def _program(child: str, palette: Palette, rng) -> int:
    choices = [p for p in PROGRAMS[child] if p in palette.programs]
    return int(rng.choice(choices))


def _part(child: str, channel: int, role: str, feel, palette: Palette, rng):
    """Notes and (channel, program) for one part of a clip."""
    if child == "drums":
        kit = int(rng.choice(palette.kits))
        notes = drums(feel, rng, set(palette.drum_notes) if palette.drum_notes else None)
        return notes, (9, kit)
    program = _program(child, palette, rng)
    register = REGISTER[child]
    if role == "chords" and child in CHORD_CHILDREN:
        return chords(feel, register, channel, rng), (channel, program)
    return melody(feel, register, channel, rng), (channel, program)


def single_clip(child: str, rng, palette: Palette) -> Clip:
    """One instrument of one music child playing a phrase (melody, or chords where it fits)."""
    feel = random_feel(rng)
    role = "chords" if rng.random() < 0.35 else "melody"
    notes, program = _part(child, 0, role, feel, palette, rng)
    return Clip(feel.seconds, (program,), tuple(notes), with_parent((child,)),
                int(rng.integers(0, 90)))  # fmt: skip


def mix_clip(rng, palette: Palette) -> Clip:
    """2-4 parts of different music children (optionally plus a bass), labelled with the union."""
    feel = random_feel(rng)
    count = int(rng.integers(2, 5))
    children = [str(c) for c in rng.choice(MUSIC_CHILDREN, size=count, replace=False)]
    notes: list[Note] = []
    programs, labels = [], list(children)
    for channel, child in enumerate(children):
        role = "melody" if channel == 0 else str(rng.choice(["chords", "melody"]))
        part, program = _part(child, channel, role, feel, palette, rng)
        notes += part
        programs.append(program)
    bass_choices = [p for p in BASS_PROGRAMS if p in palette.programs]
    if bass_choices and rng.random() < 0.5:
        program = int(rng.choice(bass_choices))
        notes += bass(feel, 8, rng)
        programs.append((8, program))
        labels.append(BASS_PROGRAMS[program])
    return Clip(feel.seconds, tuple(programs), tuple(notes), with_parent(tuple(labels)),
                int(rng.integers(0, 90)))  # fmt: skip


def make_clips(seed: int, singles_per_child: int, mixes: int, palette: Palette) -> list[Clip]:
    """The full deterministic list of clips for one synthesiser."""
    rng = np.random.default_rng([5, seed])
    clips = [single_clip(child, rng, palette)
             for _ in range(singles_per_child) for child in MUSIC_CHILDREN]  # fmt: skip
    clips += [mix_clip(rng, palette) for _ in range(mixes)]
    return clips


def with_timbre(clip: Clip, rng) -> Clip:
    """The same notes played by a re-voiced instrument: every part gets random offsets of its
    filter, resonance, envelope and vibrato (``TIMBRE``) and a chorus send. FluidR3 was the only
    soundfont trained on at first; this stands in for other sample sets and synthesisers."""
    timbre = tuple((ch, gen, round(rng.uniform(*span) / units))
                   for ch, _ in clip.programs for gen, (span, units) in TIMBRE.items())
    return dataclasses.replace(clip, timbre=timbre, chorus=int(rng.integers(0, 100)))


class BatchRenderer:
    """Renders clips ``BATCH`` at a time with one synthesiser call and cuts them back out."""

    def __init__(self, clips: list[Clip], command) -> None:
        self.clips = clips
        self.command = command  # (midi path, wav path) -> argv
        self._batch_index = -1
        self._audio = np.zeros(0, dtype=np.float32)

    def _render(self, batch_index: int) -> np.ndarray:
        if batch_index != self._batch_index:
            batch = self.clips[batch_index * BATCH : (batch_index + 1) * BATCH]
            with tempfile.TemporaryDirectory() as tmp:
                mid, wav = Path(tmp) / "batch.mid", Path(tmp) / "batch.wav"
                mid.write_bytes(write_midi(batch))
                subprocess.run(self.command(mid, wav), check=True, capture_output=True)
                samples, sr = decode(wav)
            mono = samples.mean(axis=1)
            if sr != SR:
                raise ValueError(f"synthesiser wrote {sr} Hz, expected {SR}")
            self._batch_index, self._audio = batch_index, mono
        return self._audio

    def pieces(self, index: int) -> list[Piece]:
        """The cleaned pieces of clip ``index`` (renders its batch if needed)."""
        audio = self._render(index // BATCH)
        start = int((index % BATCH) * SLOT_SECONDS * SR)
        stop = start + int((self.clips[index].seconds + 0.6) * SR)
        return make_pieces(audio[start:stop, None], SR)


def fluidsynth_command(soundfont: Path):
    """argv builder for fluidsynth rendering a MIDI file to a 16 kHz WAV."""

    def command(mid: Path, wav: Path) -> list[str]:
        return ["fluidsynth", "-ni", "-q", "-g", "0.5", "-r", str(SR), "-F", str(wav),
                "-T", "wav", str(soundfont), str(mid)]  # fmt: skip

    return command


def timidity_command(cfg: Path):
    """argv builder for timidity with ONLY the given (freepats) config."""

    def command(mid: Path, wav: Path) -> list[str]:
        return ["timidity", "-c", str(cfg), "-Ow", "--output-mono", "-s", str(SR),
                "-o", str(wav), str(mid)]  # fmt: skip

    return command
