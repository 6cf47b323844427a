"""Real compositions from the music21 corpus, which ships inside the music21 package.

- Bach chorales: the soprano is the melody, alto/tenor/bass the accompaniment, each
  voice its own stem and instrument (voices, strings, winds, brass, organ).
- Folk tunes (Ryan's Mammoth Collection): the tune is the lead; a band (drums, bass,
  chords) is arranged around it, with chords chosen bar by bar to fit the tune.

Parsing a file takes ~0.1-0.2 s; `forceSource=True` keeps music21 from writing its
pickle cache outside the output folder.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np

from bandmate.data.roles import gm_label
from bandmate.synth.band import arrange, lead_label, lead_range
from bandmate.synth.humanize import perform
from bandmate.synth.plan import Bar, SongPlan, draw_tempo, pick
from bandmate.synth.score import BeatNote, Part, Score
from bandmate.synth.styles import STYLE_BY_NAME
from bandmate.synth.theory import Chord, Key, Meter, meter_of

logger = logging.getLogger(__name__)

# Ensembles for chorale voices: (soprano, alto, tenor, bass) GM programs.
CHORALE_ENSEMBLES: dict[str, tuple[int, int, int, int]] = {
    "strings": (40, 40, 41, 42),
    "winds": (73, 68, 71, 70),
    "brass": (56, 60, 57, 58),
    "organ": (19, 19, 19, 19),
    "keys": (0, 0, 0, 0),
    "saxes": (64, 65, 66, 67),
}
# Held-out chorales: about one in ten Bach files (by a hash of the file name) never
# appears in a `chorale` song. The `chorale-heldout` source renders only these, with the
# bass voice on an instrument that training never uses as a bass input (bass inputs are
# electric and double basses), so a bass model meets a bass line it did not see played.
HELD_OUT_BUCKETS = 10
HELD_OUT_BASS_PROGRAMS = (58, 70)  # tuba, bassoon
HELD_OUT_ENSEMBLES = ("strings", "winds", "brass", "saxes")  # instrumental: no singer
FOLK_LEADS = (40, 73, 21, 22, 74, 71, 75, 78, 53, 52, 11, 24)
FOLK_STYLES = ("folk", "folk", "pop", "rock", "ballad", "bossa")


@functools.cache
def corpus_paths(collection: str) -> tuple[Path, ...]:
    """Sorted files of one music21 corpus collection (`bach`, `ryansMammoth`)."""
    from music21 import corpus

    suffixes = {".mxl", ".xml", ".abc", ".krn"}
    paths = [Path(p) for p in corpus.getPaths() if Path(p).parent.name == collection]
    return tuple(sorted(p for p in paths if p.suffix in suffixes))


def is_held_out(path: Path) -> bool:
    """True for the chorales kept out of `chorale` songs (stable: a hash of the name)."""
    digest = hashlib.sha256(path.name.encode()).digest()
    return int.from_bytes(digest[:8], "big") % HELD_OUT_BUCKETS == 0


def _parse(path: Path) -> Any:
    from music21 import corpus

    return corpus.parse(str(path), forceSource=True)


def _voice_notes(part: Any) -> list[BeatNote]:
    """All notes of a music21 part in quarter-note beats (ties merged, chords split)."""
    notes = []
    for element in part.stripTies().flatten().notes:
        start, length = float(element.offset), float(element.quarterLength)
        if length <= 0:
            continue
        for pitch in element.pitches:
            notes.append(BeatNote(start, length, int(pitch.midi), 88))
    return notes


def _loop(notes: list[BeatNote], period_b: float, until_b: float) -> list[BeatNote]:
    """Repeat a passage of `period_b` beats until `until_b` beats are covered."""
    out: list[BeatNote] = []
    shift = 0.0
    while shift < until_b and period_b > 0:
        out += [BeatNote(n.start_b + shift, n.length_b, n.pitch, n.velocity) for n in notes]
        shift += period_b
    return [n for n in out if n.start_b < until_b]


def _key_of(score: Any) -> Key:
    analysed = score.analyze("key")
    return Key(int(analysed.tonic.pitchClass), "minor" if analysed.mode == "minor" else "major")


def _chorale_program(
    voice: int, ensemble: str, rng: np.random.Generator, held_out: bool = False
) -> tuple[int, str]:
    """GM program and label of one chorale voice: sung soprano, double-bass bass at times
    (held-out chorales: never sung, bass voice on tuba or bassoon)."""
    program = CHORALE_ENSEMBLES[ensemble][voice]
    if held_out:
        program = pick(rng, HELD_OUT_BASS_PROGRAMS) if voice == 3 else program
        return program, gm_label(program)
    if voice == 0 and rng.random() < 0.5:
        program = 53 if rng.random() < 0.7 else 52
        return program, "female singer" if program == 53 else "choir"
    if voice == 3 and rng.random() < 0.4:
        program = pick(rng, (32, 43))  # acoustic bass, contrabass: "double bass"
    return program, gm_label(program)


def _pick_parsed(
    collection: str, rng: np.random.Generator, parts: int | None, held_out: bool | None = None
) -> tuple[Path, Any]:
    """A random file of the collection (with `parts` parts, when given), parsed; with
    `held_out` True or False, only files inside or outside the held-out share."""
    paths = corpus_paths(collection)
    if held_out is not None:
        paths = tuple(p for p in paths if is_held_out(p) == held_out)
    if not paths:
        raise RuntimeError(f"music21 corpus has no {collection!r} collection")
    for _ in range(20):
        path = paths[int(rng.integers(len(paths)))]
        try:
            score = _parse(path)
        except Exception as error:  # music21 raises many kinds on odd files: try another
            logger.debug("%s: skipped (%s)", path, error)
            continue
        if parts is None or len(score.parts) == parts:
            return path, score
    raise RuntimeError(f"no {parts}-part score found in {collection!r}")


def chorale_song(rng: np.random.Generator, duration_s: float, title: str) -> Score:
    """A Bach chorale (not a held-out one), one stem per voice, looped to `duration_s`."""
    return _chorale(rng, duration_s, title, held_out=False)


def held_out_chorale_song(rng: np.random.Generator, duration_s: float, title: str) -> Score:
    """A held-out Bach chorale for out-of-distribution tests: instrumental upper voices
    and the bass voice on tuba or bassoon (labelled as such)."""
    return _chorale(rng, duration_s, title, held_out=True)


def satb_parts(
    rng: np.random.Generator,
    voices: list[list[BeatNote]],
    tempo: float,
    duration_s: float,
    held_out: bool,
) -> tuple[str, list[Part]]:
    """A chorale ensemble (held-out ones when `held_out`) and the four voices' notes
    [soprano, alto, tenor, bass] played on it, one part each."""
    ensemble = pick(rng, HELD_OUT_ENSEMBLES if held_out else sorted(CHORALE_ENSEMBLES))
    names = ("soprano", "alto", "tenor", "bass")
    parts = []
    for voice, (name, notes) in enumerate(zip(names, voices, strict=True)):
        program, label = _chorale_program(voice, ensemble, rng, held_out)
        component = {0: "melody", 3: "bass"}.get(voice, "")
        played = perform(notes, tempo, duration_s, rng, monophonic=True)
        gain = float(rng.uniform(-3.0, 3.0)) + (1.0 if voice == 0 else -1.0)
        parts.append(Part(name, program, False, label, component, played, round(gain, 2)))
        parts[-1].pan = (voice - 1.5) / 3.0
    return ensemble, parts


def _chorale(rng: np.random.Generator, duration_s: float, title: str, held_out: bool) -> Score:
    path, score = _pick_parsed("bach", rng, parts=4, held_out=held_out)
    tempo = float(rng.integers(60, 101))
    until_b = duration_s * tempo / 60.0
    length_b = float(score.highestTime)
    voices = [_loop(_voice_notes(part), length_b, until_b) for part in score.parts]
    ensemble, parts = satb_parts(rng, voices, tempo, duration_s, held_out)
    ts = score.recurse().getElementsByClass("TimeSignature").first()
    return Score(
        title=title,
        source="chorale-heldout" if held_out else "chorale",
        origin=f"music21 corpus: bach/{path.name}",
        genre="Classical",
        tempo_bpm=tempo,
        key=_key_of(score).name,
        meter=ts.ratioString if ts is not None else "4/4",
        style=f"chorale ({ensemble})",
        duration_s=duration_s,
        sections=["chorale"],
        parts=parts,
    )


def harmonize(melody: list[BeatNote], key: Key, bars: int, beats_per_bar: float) -> list[Chord]:
    """One diatonic triad per bar: the one covering most of the bar's melody (by duration)."""
    candidates = [key.chord(degree) for degree in range(6)]
    weights = np.zeros((bars, 12))
    for note in melody:
        bar = int(note.start_b // beats_per_bar)
        if bar < bars:
            downbeat = 1.5 if note.start_b % beats_per_bar == 0 else 1.0
            weights[bar, note.pitch % 12] += note.length_b * downbeat
    chords = []
    for bar in range(bars):
        scores = [sum(weights[bar, pc] for pc in c.pcs) + (0.2 if i == 0 else 0.0)
                  for i, c in enumerate(candidates)]  # fmt: skip
        chords.append(candidates[int(np.argmax(scores))] if weights[bar].any() else candidates[0])
    return chords


def _tune(part: Any) -> tuple[list[BeatNote], Meter, float]:
    """A tune's notes with bar lines at multiples of the bar length (pick-up shifted),
    its meter, and its length in beats (whole bars)."""
    ts = part.recurse().getElementsByClass("TimeSignature").first()
    if ts is not None:
        meter = meter_of(ts.ratioString, float(ts.barDuration.quarterLength))
    else:
        meter = meter_of("4/4", 4.0)
    first = part.getElementsByClass("Measure").first()
    pickup = float(first.paddingLeft) if first is not None else 0.0
    notes = [BeatNote(n.start_b + pickup, n.length_b, n.pitch, 96) for n in _voice_notes(part)]
    bars = max(int(np.ceil((float(part.highestTime) + pickup) / meter.beats_per_bar)), 1)
    return notes, meter, bars * meter.beats_per_bar


def _folk_lead(
    rng: np.random.Generator, melody: list[BeatNote], plan: SongPlan, duration_s: float
) -> Part:
    """The tune played by a lead instrument, moved by octaves into its range."""
    program = pick(rng, FOLK_LEADS)
    label = lead_label(program, rng)
    low, high = lead_range(program, label)
    shift = 12 * round(((low + high) / 2 - np.mean([n.pitch for n in melody])) / 12)
    gain_db = round(float(rng.uniform(-2, 2)), 2)
    lead = Part("lead", program, False, label, "melody", gain_db=gain_db)
    moved = [BeatNote(n.start_b, n.length_b, n.pitch + shift, n.velocity) for n in melody]
    lead.notes = perform(moved, plan.tempo_bpm, duration_s, rng, swing=plan.swing, monophonic=True)
    return lead


def folk_song(rng: np.random.Generator, duration_s: float, title: str) -> Score:
    """A folk tune as the lead, with drums, bass and chords arranged to fit it."""
    path, score = _pick_parsed("ryansMammoth", rng, parts=None)
    tune, meter, tune_b = _tune(score.parts[0] if score.parts else score)
    tempo = draw_tempo(rng, 80, 160, meter)  # jigs count dotted quarters
    until_b = duration_s * tempo / 60.0
    melody = _loop(tune, tune_b, until_b)
    key = _key_of(score)
    chords = harmonize(
        melody, key, int(np.ceil(until_b / meter.beats_per_bar)), meter.beats_per_bar
    )
    bars = tuple(
        Bar("a" if (i // 8) % 2 == 0 else "b", (chord,), i % 8 == 0, i % 8 == 7)
        for i, chord in enumerate(chords)
    )  # eight-bar strains, as most reels and jigs have
    style = STYLE_BY_NAME[pick(rng, FOLK_STYLES)]
    swing = float(rng.uniform(*style.swing)) if meter.name in ("4/4", "2/4") else 0.0
    plan = SongPlan(key, meter, tempo, style, swing, bars)
    lead = _folk_lead(rng, melody, plan, duration_s)
    return Score(
        title=title,
        source="folk",
        origin=f"music21 corpus: ryansMammoth/{path.name}",
        genre="World/Folk",
        tempo_bpm=tempo,
        key=key.name,
        meter=meter.name,
        style=f"folk tune ({style.name})",
        duration_s=duration_s,
        sections=plan.sections,
        parts=arrange(plan, rng, duration_s, lead=lead),
    )
