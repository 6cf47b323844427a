"""Procedural band songs: a plan, then drums, bass, chords and a lead, one part each."""

from __future__ import annotations

import numpy as np

from bandmate.data.roles import Role, gm_label, role_of
from bandmate.synth.bass import bass_part
from bandmate.synth.drums import drum_part
from bandmate.synth.harmony import chord_part
from bandmate.synth.humanize import perform
from bandmate.synth.melody import lead_part
from bandmate.synth.plan import SongPlan, pick, plan_song
from bandmate.synth.score import BeatNote, Note, Part, Score
from bandmate.synth.styles import VOICE_PROGRAMS

# Lead range (low, high) by GM program family (program // 8), and for voices by singer.
FAMILY_RANGE = {
    0: (60, 84), 1: (67, 91), 2: (60, 84), 3: (55, 79), 5: (62, 86), 6: (60, 84),
    7: (58, 80), 8: (56, 78), 9: (67, 91), 10: (60, 84), 11: (60, 84), 13: (60, 84),
}  # fmt: skip
SINGER_RANGE = {"female singer": (60, 79), "male singer": (50, 69), "choir": (55, 74)}


def lead_label(program: int, rng: np.random.Generator) -> str:
    """MedleyDB label of a lead: voice-like patches are labelled as singers (role vocals)."""
    if program in VOICE_PROGRAMS:
        return pick(rng, ("female singer", "male singer", "female singer", "choir"))
    return gm_label(program)


def lead_range(program: int, label: str) -> tuple[int, int]:
    """(low, high) MIDI pitches a lead of this program or singer plays in."""
    if label in SINGER_RANGE:
        return SINGER_RANGE[label]
    return FAMILY_RANGE.get(program // 8, (60, 84))


def _gain(rng: np.random.Generator, base_db: float) -> float:
    return round(base_db + float(rng.uniform(-3.0, 3.0)), 2)


# Velocity factor by section: songs get louder in choruses and bridges.
SECTION_DYNAMICS = {"intro": 0.85, "verse": 0.92, "a": 0.95, "prechorus": 1.0, "outro": 0.9}
LOUD_SECTIONS = 1.06
PAD_PROGRAMS = (48, 49, 50, 89, 91, 95, 19, 16)
# Auxiliary percussion on the drum channel: (GM key, label, grid stride in steps).
PERCUSSION = ((54, "tambourine", 2), (82, "shaker", 1), (69, "cabasa", 2), (70, "maracas", 1))


def with_dynamics(plan: SongPlan, notes: list[BeatNote]) -> list[BeatNote]:
    """Scale velocities by the section each note falls in."""
    bar_b = plan.meter.beats_per_bar
    out = []
    for note in notes:
        bar = plan.bars[min(int(note.start_b // bar_b), len(plan.bars) - 1)]
        factor = SECTION_DYNAMICS.get(bar.section, LOUD_SECTIONS)
        velocity = int(np.clip(round(note.velocity * factor), 1, 127))
        out.append(BeatNote(note.start_b, note.length_b, note.pitch, velocity))
    return out


class Player:
    """Turns composed beats into played notes for one song (shared tempo, swing, length)."""

    def __init__(self, plan: SongPlan, rng: np.random.Generator, duration_s: float) -> None:
        self.plan, self.rng, self.duration_s = plan, rng, duration_s

    def __call__(
        self, notes: list[BeatNote], monophonic: bool = False, max_length_s: float | None = None
    ) -> list[Note]:
        plan = self.plan
        return perform(
            with_dynamics(plan, notes),
            plan.tempo_bpm,
            self.duration_s,
            self.rng,
            swing=plan.swing,
            monophonic=monophonic,
            max_length_s=max_length_s,
        )


def _lead(plan: SongPlan, rng: np.random.Generator, play: Player) -> Part:
    program = pick(rng, plan.style.lead_programs)
    label = lead_label(program, rng)
    lead = Part("lead", program, False, label, "melody", gain_db=_gain(rng, 0.0))
    busy = label not in SINGER_RANGE and rng.random() < 0.6
    low, high = lead_range(program, label)
    lead.notes = play(lead_part(plan, rng, low, high, busy), monophonic=True)
    if not lead.notes:  # a clip shorter than the intro: the lead enters at once
        lead.notes = play(lead_part(plan, rng, low, high, busy, False), monophonic=True)
    return lead


def _percussion(plan: SongPlan, rng: np.random.Generator) -> tuple[str, list[BeatNote]]:
    """A shaker, tambourine ... part: steady notes on the grid, accents on the pulses."""
    key, label, stride = pick(rng, PERCUSSION)
    meter = plan.meter
    step_b = meter.beats_per_step
    notes = []
    for index in range(len(plan.bars)):
        for step in range(0, meter.steps_per_bar, stride):
            velocity = 96 if step in meter.pulses else 64
            notes.append(BeatNote(plan.bar_start(index) + step * step_b, step_b, key, velocity))
    return label, notes


def _extras(plan: SongPlan, rng: np.random.Generator, play: Player, vocal_lead: bool) -> list[Part]:
    """Optional stems: a pad, backing vocals (with a sung lead), auxiliary percussion."""
    extras = []
    if rng.random() < 0.35:
        program = pick(rng, PAD_PROGRAMS)
        pad = Part("pad", program, False, gm_label(program), "", gain_db=_gain(rng, -8.0))
        pad.notes = play(chord_part(plan, rng, program, "sustain", transpose=12))
        extras.append(pad)
    if vocal_lead and rng.random() < 0.2:
        backing = Part("backing vocals", 52, False, "vocalists", "", gain_db=_gain(rng, -8.0))
        backing.notes = play(chord_part(plan, rng, 52, "sustain"))
        extras.append(backing)
    if rng.random() < 0.25:
        label, notes = _percussion(plan, rng)
        shaker = Part("percussion", 0, True, label, "", gain_db=_gain(rng, -9.0))
        shaker.notes = play(notes, max_length_s=0.3)
        extras.append(shaker)
    return extras


def arrange(
    plan: SongPlan, rng: np.random.Generator, duration_s: float, lead: Part | None = None
) -> list[Part]:
    """Drums, bass, chords, a lead and sometimes extra stems for `plan`.

    Args:
        plan: the song plan.
        rng: the song's generator.
        duration_s: song length; later notes are dropped.
        lead: an existing lead part (a corpus melody) to keep as it is.
    Returns:
        the parts, in stem order.
    """
    style = plan.style
    play = Player(plan, rng, duration_s)
    kit = pick(rng, style.kits)
    drums = Part("drums", kit, True, "drum set", "", gain_db=_gain(rng, 0.0))
    drums.notes = play(drum_part(plan, rng), max_length_s=1.0)
    bass_program = pick(rng, style.bass_programs)
    bass_label = gm_label(bass_program)
    bass = Part("bass", bass_program, False, bass_label, "bass", gain_db=_gain(rng, -1.0))
    bass.notes = play(bass_part(plan, rng), monophonic=True)
    chord_program = pick(rng, style.chord_programs)
    chord_label = gm_label(chord_program)
    chords = Part("chords", chord_program, False, chord_label, "", gain_db=_gain(rng, -4.0))
    chords.notes = play(chord_part(plan, rng, chord_program))
    chords.pan = float(rng.uniform(-0.5, 0.5))
    lead = lead or _lead(plan, rng, play)
    vocal = role_of(lead.label) == Role.VOCALS
    return [drums, bass, chords, lead, *_extras(plan, rng, play, vocal)]


def band_song(rng: np.random.Generator, duration_s: float, title: str) -> Score:
    """A whole procedural song of about `duration_s` seconds."""
    plan = plan_song(rng, duration_s)
    parts = arrange(plan, rng, duration_s)
    return Score(
        title=title,
        source="band",
        origin="procedural",
        genre=plan.style.genre,
        tempo_bpm=plan.tempo_bpm,
        key=plan.key.name,
        meter=plan.meter.name,
        style=plan.style.name,
        duration_s=duration_s,
        sections=plan.sections,
        parts=parts,
    )
