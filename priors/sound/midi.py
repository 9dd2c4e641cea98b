"""Random labelled music as MIDI: single-instrument phrases and 2-4 part band mixes.

A ``Clip`` is a list of notes in seconds (not beats) plus the General MIDI programs that play
them and the music labels they imply. Many clips are laid end to end in one MIDI file, each in
its own ``SLOT_SECONDS`` slot, so one synthesiser call renders a whole batch; the renderer cuts
the slots back out. MIDI bytes are written here directly (format 0, one track, 960 ticks/s).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

#: General MIDI program ranges per music label (DESIGN.md vocabulary).
PROGRAMS: dict[str, tuple[int, ...]] = {
    "keys": (*range(0, 8), *range(16, 24), *range(80, 96)),
    "guitar": tuple(range(24, 32)),
    "strings": (*range(40, 48), *range(48, 52)),
    "brass": tuple(range(56, 64)),
    "woodwind": tuple(range(64, 80)),
    "voice": (52, 53, 54),
}
BASS_PROGRAMS = {32: "strings", 33: "guitar", 34: "guitar", 35: "guitar"}
DRUM_KITS = (0, 8, 16, 24, 25, 32, 40, 48)
DRUM_NOTES = {"kick": (35, 36), "snare": (38, 40, 37, 39), "hat": (42, 44, 46),
              "tom": (41, 43, 45, 47, 48, 50), "cymbal": (49, 51, 52, 55, 57, 59)}  # fmt: skip
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10),
          "dorian": (0, 2, 3, 5, 7, 9, 10), "pentatonic": (0, 2, 4, 7, 9)}  # fmt: skip
REGISTER = {"keys": (48, 84), "guitar": (45, 76), "strings": (43, 84), "brass": (46, 76),
            "woodwind": (55, 88), "voice": (50, 74), "bass": (31, 52)}  # fmt: skip
SLOT_SECONDS = 8.0
TICKS_PER_SECOND = 960  # 480 ticks per quarter at the default 120 bpm


@dataclass(frozen=True)
class Note:
    """One note: ``channel`` 9 is the drum channel."""

    start: float
    end: float
    channel: int
    pitch: int
    velocity: int


@dataclass(frozen=True)
class Clip:
    """One labelled piece of music: notes in seconds from its own start."""

    seconds: float
    programs: tuple[tuple[int, int], ...]  # (channel, program)
    notes: tuple[Note, ...]
    labels: tuple[str, ...]
    reverb: int
    timbre: tuple[tuple[int, int, int], ...] = ()  # (channel, SF2 generator, NRPN data offset)
    chorus: int = 0  # CC 93 send level


@dataclass(frozen=True)
class Feel:
    """Shared musical frame of one clip: beat length, key and scale."""

    beat: float
    root: int
    scale: tuple[int, ...]
    seconds: float


def _pitches(feel: Feel, low: int, high: int) -> list[int]:
    return [p for p in range(low, high + 1) if (p - feel.root) % 12 in feel.scale]


def melody(feel: Feel, register: tuple[int, int], channel: int, rng) -> list[Note]:
    """A random walk over the scale with varied note lengths, rests and velocities."""
    pitches = _pitches(feel, *register)
    i, t, notes = len(pitches) // 2, 0.0, []
    base_velocity = int(rng.integers(55, 115))
    while t < feel.seconds:
        length = feel.beat * float(rng.choice([0.25, 0.5, 0.5, 1, 1, 1.5, 2]))
        if rng.random() > 0.12:
            vel = int(np.clip(base_velocity + rng.integers(-15, 16), 20, 127))
            notes.append(Note(t, min(t + length * 0.95, feel.seconds), channel, pitches[i], vel))
        i = int(np.clip(i + rng.integers(-3, 4), 0, len(pitches) - 1))
        t += length
    return notes


def chords(feel: Feel, register: tuple[int, int], channel: int, rng) -> list[Note]:
    """Block or arpeggiated triads from a random progression, one chord per 2-4 beats."""
    pitches = _pitches(feel, register[0], register[1])
    per_chord = feel.beat * float(rng.choice([2, 4]))
    arpeggio = rng.random() < 0.4
    t, notes = 0.0, []
    velocity = int(rng.integers(50, 110))
    while t < feel.seconds:
        first = int(rng.integers(0, max(1, len(pitches) - 5)))
        triad = [pitches[min(first + k, len(pitches) - 1)] for k in (0, 2, 4)]
        for k, pitch in enumerate(triad):
            start = t + (k * per_chord / 3 if arpeggio else 0.0)
            notes.append(Note(start, min(t + per_chord * 0.95, feel.seconds), channel, pitch,
                              velocity))  # fmt: skip
        t += per_chord
    return [n for n in notes if n.start < feel.seconds]


def bass(feel: Feel, channel: int, rng) -> list[Note]:
    """Roots and fifths on the beat."""
    pitches = _pitches(feel, *REGISTER["bass"])
    t, notes = 0.0, []
    while t < feel.seconds:
        pitch = int(rng.choice(pitches[:8]))
        notes.append(Note(t, min(t + feel.beat * 0.9, feel.seconds), channel, pitch,
                          int(rng.integers(70, 115))))  # fmt: skip
        t += feel.beat * float(rng.choice([0.5, 1, 1, 2]))
    return notes


def drums(feel: Feel, rng, notes_ok: set[int] | None = None) -> list[Note]:
    """A random kick/snare/hat groove on sixteenths with occasional toms and cymbals."""
    pick = {k: [n for n in v if notes_ok is None or n in notes_ok] for k, v in DRUM_NOTES.items()}
    probs = {"kick": rng.uniform(0.15, 0.5), "snare": rng.uniform(0.1, 0.35),
             "hat": rng.uniform(0.3, 0.9), "tom": rng.uniform(0, 0.1),
             "cymbal": rng.uniform(0, 0.08)}  # fmt: skip
    step, t, notes = feel.beat / 4, 0.0, []
    while t < feel.seconds:
        for part, chance in probs.items():
            if pick[part] and rng.random() < chance:
                vel = int(rng.integers(50, 127))
                notes.append(Note(t, t + 0.1, 9, int(rng.choice(pick[part])), vel))
        t += step
    return notes


def random_feel(rng) -> Feel:
    """Random tempo (60-170 bpm), key, scale and length (3-6 s)."""
    scale = SCALES[str(rng.choice(sorted(SCALES)))]
    beat = 60.0 / rng.uniform(60, 170)
    return Feel(beat, int(rng.integers(0, 12)), scale, float(rng.uniform(3.0, 6.0)))


def write_midi(clips: list[Clip]) -> bytes:
    """A format-0 MIDI file with clip ``k`` starting at ``k * SLOT_SECONDS`` seconds."""
    events: list[tuple[int, int, bytes]] = []  # (tick, order, bytes)
    for k, clip in enumerate(clips):
        base = k * SLOT_SECONDS
        _slot_setup(events, clip, base)
        for note in clip.notes:
            on, off = _tick(base + note.start), _tick(base + max(note.end, note.start + 0.02))
            events.append((on, 2, bytes([0x90 | note.channel, note.pitch, note.velocity])))
            events.append((off, 1, bytes([0x80 | note.channel, note.pitch, 0])))
        end = _tick(base + clip.seconds + 0.01)
        for ch in range(16):
            events.append((end, 1, bytes([0xB0 | ch, 123, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    return _file_bytes(events, _tick(len(clips) * SLOT_SECONDS))


def _tick(seconds: float) -> int:
    return round(seconds * TICKS_PER_SECOND)


def _slot_setup(events: list[tuple[int, int, bytes]], clip: Clip, base: float) -> None:
    at = _tick(base)
    for ch in range(16):
        events.append((at, 0, bytes([0xB0 | ch, 121, 0])))  # reset controllers
    for ch, program in clip.programs:
        events.append((at, 0, bytes([0xC0 | ch, program])))
        events.append((at, 0, bytes([0xB0 | ch, 91, clip.reverb])))
        if clip.chorus:  # plain clips keep their original bytes (CC 93 defaults to 0)
            events.append((at, 0, bytes([0xB0 | ch, 93, clip.chorus])))
    for ch, generator, offset in clip.timbre:
        events += [(at, 0, data) for data in nrpn_generator(ch, generator, offset)]


def nrpn_generator(channel: int, generator: int, offset: int) -> list[bytes]:
    """SoundFont 2.01 NRPN (MSB 120, LSB = generator) adding ``offset`` NRPN units to one
    generator of every voice on ``channel``; fluidsynth honours it (``music.TIMBRE`` gives
    the units). Data entry LSB first: the MSB applies the value."""
    if not 0 <= generator < 100 or not -8192 <= offset < 8192:
        raise ValueError(f"NRPN generator {generator} offset {offset} out of range")
    data = 8192 + offset
    return [bytes([0xB0 | channel, 99, 120]), bytes([0xB0 | channel, 98, generator]),
            bytes([0xB0 | channel, 38, data & 0x7F]), bytes([0xB0 | channel, 6, data >> 7])]


def _varlen(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _file_bytes(events: list[tuple[int, int, bytes]], last: int) -> bytes:
    track = bytearray(b"\x00\xff\x51\x03\x07\xa1\x20")  # 500000 us per quarter = 120 bpm
    now = 0
    for tick, _, data in events:
        track += _varlen(tick - now) + data
        now = tick
    track += _varlen(max(0, last - now)) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)
