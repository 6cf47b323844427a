"""Procedural band songs: a plan, then drums, bass, chords and a lead, one part each."""

from __future__ import annotations

import numpy as np

from bandmate.data.roles import gm_label
from bandmate.synth.bass import bass_part
from bandmate.synth.drums import drum_part
from bandmate.synth.harmony import chord_part
from bandmate.synth.humanize import perform
from bandmate.synth.melody import lead_part
from bandmate.synth.plan import SongPlan, pick, plan_song
from bandmate.synth.score import BeatNote, Part, Score
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
        return str(pick(rng, ("female singer", "male singer", "female singer", "choir")))
    return gm_label(program)


def lead_range(program: int, label: str) -> tuple[int, int]:
    if label in SINGER_RANGE:
        return SINGER_RANGE[label]
    return FAMILY_RANGE.get(program // 8, (60, 84))


def _gain(rng: np.random.Generator, base_db: float) -> float:
    return round(base_db + float(rng.uniform(-3.0, 3.0)), 2)


def arrange(
    plan: SongPlan, rng: np.random.Generator, duration_s: float, lead: Part | None = None
) -> list[Part]:
    """Drums, bass and chords for `plan`, and a composed lead unless one is given.

    Args:
        plan: the song plan.
        rng: the song's generator.
        duration_s: song length; later notes are dropped.
        lead: an existing lead part (a corpus melody) to keep as it is.
    Returns:
        the parts, in stem order.
    """
    style = plan.style

    def play(notes: list[BeatNote], **kwargs: object) -> list:
        return perform(notes, plan.tempo_bpm, duration_s, rng, swing=plan.swing, **kwargs)  # type: ignore[arg-type]

    kit = int(pick(rng, style.kits))  # type: ignore[call-overload]
    drums = Part("drums", kit, True, "drum set", "", gain_db=_gain(rng, 0.0))
    drums.notes = play(drum_part(plan, rng), timing_sd_s=0.004, max_length_s=1.0)
    bass_program = int(pick(rng, style.bass_programs))  # type: ignore[call-overload]
    bass = Part(
        "bass", bass_program, False, gm_label(bass_program), "bass", gain_db=_gain(rng, -1.0)
    )
    bass.notes = play(bass_part(plan, rng), monophonic=True)
    chord_program = int(pick(rng, style.chord_programs))  # type: ignore[call-overload]
    chords = Part(
        "chords", chord_program, False, gm_label(chord_program), "", gain_db=_gain(rng, -4.0)
    )
    chords.notes = play(chord_part(plan, rng, chord_program))
    chords.pan, bass.pan = float(rng.uniform(-0.5, 0.5)), 0.0
    if lead is None:
        program = int(pick(rng, style.lead_programs))  # type: ignore[call-overload]
        label = lead_label(program, rng)
        lead = Part("lead", program, False, label, "melody", gain_db=_gain(rng, 0.0))
        busy = label not in SINGER_RANGE and rng.random() < 0.6
        low, high = lead_range(program, label)
        lead.notes = play(lead_part(plan, rng, low, high, busy), monophonic=True)
        if not lead.notes:  # a clip shorter than the intro: the lead enters at once
            notes = lead_part(plan, rng, low, high, busy, skip_intro=False)
            lead.notes = play(notes, monophonic=True)
    return [drums, bass, chords, lead]


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
