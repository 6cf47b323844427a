"""The judge panel's per-clip scores: does a part agree with the input's beat, key, chords?

Each score is in [0, 1] and comes from mir_eval on madmom's analyses (`mir.py`), tools the
candidate choice never uses:

- `beat_f`: F-measure between the input's beats and the part's own beats;
- `key_score`: mir_eval's weighted key score between the input's key and the key of
  input + part (does the part keep the song in its key);
- `chord_agreement`: weighted major/minor chord overlap between input + original part
  (the reference) and input + part.

A silent, non-finite or empty part scores 0 on all three: a failure, never an exception.
`analyse_input` analyses a clip's input (and its original part) once, so that every
system (generated, original, shuffled, rule) is scored against the same analysis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mir_eval
import numpy as np

from bandmate.data.roles import Role, role_of
from bandmate.metrics.mir import PanelRole, audible, beat_times, chord_segments, key_of

ChordSegments = list[tuple[float, float, str]]  # (start_s, end_s, mir_eval chord label)

BEAT_TOLERANCE_S = 0.07  # mir_eval's (and MIREX's) F-measure window, +-70 ms


def beat_f(input_beats: np.ndarray, part_beats: np.ndarray) -> float:
    """F-measure of the part's beats against the input's (+-70 ms).

    `mir_eval.beat.f_measure` directly, without `mir_eval.beat.evaluate`: that one trims
    every beat before 5 s (`trim_beats`, meant for whole songs whose first beats are
    unsettled), which would leave nothing of a 4 s clip.

    Args:
        input_beats: the input's beat times in seconds [N].
        part_beats: the part's beat times in seconds [M].
    Returns:
        F-measure in [0, 1]; 0.0 when either side has no beats, both empty included: a
        part with no beat does not follow one, and an input without a detectable beat gives
        every system the same 0, so comparisons between systems are unaffected.
    """
    reference, estimate = _clean_beats(input_beats), _clean_beats(part_beats)
    if reference.size == 0 or estimate.size == 0:
        return 0.0
    return float(mir_eval.beat.f_measure(reference, estimate, BEAT_TOLERANCE_S))


def _clean_beats(beats: np.ndarray) -> np.ndarray:
    """Finite, non-negative, sorted beat times [N] float64 (what mir_eval validates)."""
    beats = np.asarray(beats, dtype=np.float64).reshape(-1)
    return np.sort(beats[np.isfinite(beats) & (beats >= 0)])


def key_score(input_key: str, mix_key: str) -> float:
    """mir_eval's weighted key score of the mix's key against the input's.

    1 for the same key, 0.5 for the fifth above, 0.3 for the relative and 0.2 for the
    parallel key, 0 otherwise (the score is not symmetric: a fifth below scores 0).

    Args:
        input_key: the input's key ("C major"), "" when it has none.
        mix_key: the key of input + part, "" when it has none.
    Returns:
        score in [0, 1]; 0.0 when either key is "".
    """
    if not input_key or not mix_key:
        return 0.0
    return float(mir_eval.key.weighted_score(input_key, mix_key))


def chord_agreement(
    reference_segments: ChordSegments, estimate_segments: ChordSegments, duration_s: float
) -> float:
    """Share of the clip's time on which the estimate's chords match the reference's
    (`mir_eval.chord.majmin`: root and major/minor quality, "N" matching "N").

    Both segment lists are first cut or padded with "N" to [0, duration_s], so that a
    side that stops early counts as "no chord" there.

    Args:
        reference_segments: (start_s, end_s, label) of input + original part.
        estimate_segments: (start_s, end_s, label) of input + part.
        duration_s: the clip's length.
    Returns:
        duration-weighted accuracy in [0, 1]; 0.0 when either side is empty, the clip has
        no length, or no reference chord is comparable.
    """
    if not reference_segments or not estimate_segments:
        return 0.0
    if not math.isfinite(duration_s) or duration_s <= 0:
        return 0.0
    ref_intervals, ref_labels = _on_clip(reference_segments, duration_s)
    est_intervals, est_labels = _on_clip(estimate_segments, duration_s)
    intervals, ref_labels, est_labels = mir_eval.util.merge_labeled_intervals(
        ref_intervals, ref_labels, est_intervals, est_labels
    )
    durations = mir_eval.util.intervals_to_durations(intervals)  # [K]
    comparisons = np.asarray(mir_eval.chord.majmin(ref_labels, est_labels))  # [K], -1: skip
    if not np.any((comparisons >= 0) & (durations > 0)):
        return 0.0  # mir_eval would warn and return 0
    return float(mir_eval.chord.weighted_accuracy(comparisons, durations))


def _on_clip(segments: ChordSegments, duration_s: float) -> tuple[np.ndarray, list[str]]:
    """Segments as mir_eval intervals [K, 2] and labels, covering exactly [0, duration_s]."""
    kept = [(s, e, label) for s, e, label in segments if math.isfinite(s) and math.isfinite(e)]
    kept = [(max(s, 0.0), e, label) for s, e, label in sorted(kept) if e > max(s, 0.0)]
    if not kept:
        return np.array([[0.0, duration_s]]), ["N"]
    intervals = np.array([[s, e] for s, e, _ in kept])
    labels = [label for _, _, label in kept]
    intervals, labels = mir_eval.util.adjust_intervals(
        intervals, labels, t_min=0.0, t_max=duration_s, start_label="N", end_label="N"
    )
    return intervals, list(labels)


@dataclass(frozen=True)
class InputAnalysis:
    """What the panel needs of a clip's input, computed once for all systems.

    Attributes:
        beats: the input's beat times in seconds [N].
        key: the input's key ("" for an inaudible input).
        reference_chords: chords of input + original part; None when no original was given.
        duration_s: the clip's length.
    """

    beats: np.ndarray
    key: str
    reference_chords: ChordSegments | None
    duration_s: float


def analyse_input(
    input_wav: np.ndarray, sample_rate_hz: int, original_wav: np.ndarray | None = None
) -> InputAnalysis:
    """Beats and key of the input, and chords of input + original part.

    Args:
        input_wav: the input part, mono [S].
        sample_rate_hz: its rate (also the original's).
        original_wav: the song's own accompaniment [S'] (cut or zero-padded to S), or None.
    Returns:
        the analysis, to pass to `score_part` for each system.
    """
    input_wav = np.asarray(input_wav, dtype=np.float32).reshape(-1)
    reference = None
    if original_wav is not None:
        reference = chord_segments(_mix(input_wav, original_wav), sample_rate_hz)
    return InputAnalysis(
        beats=beat_times(input_wav, sample_rate_hz),
        key=key_of(input_wav, sample_rate_hz),
        reference_chords=reference,
        duration_s=input_wav.size / sample_rate_hz,
    )


@dataclass(frozen=True)
class PanelScores:
    """One system's panel scores on one clip, each in [0, 1] (chords None: no reference)."""

    beat_f: float
    key_score: float
    chord_agreement: float | None

    def as_dict(self) -> dict[str, float]:
        """Flat slash-named metrics: `panel/beat_f`, `panel/key`, `panel/chords`."""
        out = {"panel/beat_f": self.beat_f, "panel/key": self.key_score}
        if self.chord_agreement is not None:
            out["panel/chords"] = self.chord_agreement
        return out


def score_part(
    analysis: InputAnalysis, input_wav: np.ndarray, part_wav: np.ndarray, sample_rate_hz: int
) -> PanelScores:
    """Score one system's part against the clip's input analysis.

    Args:
        analysis: `analyse_input` of this clip.
        input_wav: the input part, mono [S] (mixed with the part for key and chords).
        part_wav: the system's part [S'] (cut or zero-padded to S).
        sample_rate_hz: rate of both.
    Returns:
        the scores; all 0 (chords 0 too, when there is a reference) for an inaudible or
        non-finite part.
    """
    part_wav = np.asarray(part_wav, dtype=np.float32).reshape(-1)
    has_reference = analysis.reference_chords is not None
    if not audible(part_wav):
        return PanelScores(0.0, 0.0, 0.0 if has_reference else None)
    mix = _mix(np.asarray(input_wav, dtype=np.float32).reshape(-1), part_wav)
    chords = None
    if analysis.reference_chords is not None:
        estimate = chord_segments(mix, sample_rate_hz)
        chords = chord_agreement(analysis.reference_chords, estimate, analysis.duration_s)
    return PanelScores(
        beat_f=beat_f(analysis.beats, beat_times(part_wav, sample_rate_hz)),
        key_score=key_score(analysis.key, key_of(mix, sample_rate_hz)),
        chord_agreement=chords,
    )


def _mix(input_wav: np.ndarray, part_wav: np.ndarray) -> np.ndarray:
    """input [S] + part cut or zero-padded to S: what a listener hears. Returns [S]."""
    part = np.asarray(part_wav, dtype=np.float32).reshape(-1)[: input_wav.size]
    part = np.pad(part, (0, input_wav.size - part.size))
    return (input_wav + part).astype(np.float32)


def panel_role(target_spec: str, input_spec: str = "") -> PanelRole:
    """The panel role of a checkpoint's target spec (`bandmate.data.pairs`).

    "drums" when every comma-separated term is a drum label or the role `drums` (e.g.
    "drum set"), "bass" likewise for bass ("bass", "electric bass"), "instrumental" for a
    band: drums among other parts (`all` and `all-but:X` hold the drums unless the input or
    X is the drums), "harmonic" for the rest (pitched parts without drums).

    Args:
        target_spec: e.g. "drum set", "bass", "all-but:vocals", "piano,electric bass".
        input_spec: the input's spec (`all` never holds the input's own stems).
    Returns:
        "drums", "bass", "instrumental" or "harmonic".
    """
    terms = [t.strip() for t in target_spec.split(",") if t.strip()]
    if not terms:
        raise ValueError(f"empty target spec {target_spec!r}")
    input_roles = {role_of(t.strip()) for t in input_spec.split(",") if t.strip()}
    roles: set[Role] = set()
    for term in terms:
        if term == "all" or term.startswith("all-but:"):
            excluded = {role_of(x.strip()) for x in term.removeprefix("all-but:").split(",")}
            has_drums = Role.DRUMS not in input_roles | (excluded if term != "all" else set())
            roles |= {Role.OTHER, Role.DRUMS} if has_drums else {Role.OTHER}
        else:
            roles.add(role_of(term))
    if roles == {Role.DRUMS}:
        return "drums"
    if roles == {Role.BASS}:
        return "bass"
    return "instrumental" if Role.DRUMS in roles else "harmonic"
