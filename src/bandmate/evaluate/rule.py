"""The `rule` baseline: the obvious part on the input's beats and in its key.

The floor a learned accompanist must clear (SingSong compared against retrieval): track
the input's beats and key with the judge panel's own madmom models (`metrics/mir.py`) and
play, through a General MIDI SoundFont,

- bass: the key's root and fifth, alternating, one note per beat (E1..G2 register);
- drums: kick and snare on alternate beats, a closed hi-hat on every beat;
- harmonic: the tonic triad on every beat (piano, C4..B4 root);
- instrumental: the harmonic part and the drum part together.

The part is scaled to the input's RMS level, so that neither drowns the other in a mix.
"""

from __future__ import annotations

import logging
from typing import get_args

import mir_eval
import numpy as np

from bandmate.data.audio import peak_normalize
from bandmate.metrics.mir import PanelRole, audible, beat_times, key_of
from bandmate.synth.render import default_soundfont, render_part
from bandmate.synth.score import Note, Part

logger = logging.getLogger(__name__)

FALLBACK_KEY = "C major"  # see `rule_part`
FALLBACK_BPM = 120.0  # the grid used when fewer than 2 beats are found
ONSET_FRACTION = 0.1  # the first onset: the first sample above this share of the peak
VELOCITY = 100

BASS_PROGRAM = 33  # GM "Electric Bass (finger)", 0-based
BASS_LOWEST = 28  # E1: the root goes in E1..D#2
BASS_HIGHEST = 43  # G2: a fifth that would lie above it is played a fourth below the root
PIANO_PROGRAM = 0  # GM "Acoustic Grand Piano"
TRIAD_ROOT_LOWEST = 60  # C4: the triad's root goes in C4..B4
KICK, SNARE, CLOSED_HAT = 36, 38, 42  # GM drum keys
DRUM_HIT_S = 0.1  # drum notes are one-shots; this only ends the MIDI note


def rule_accompaniment(
    wav: np.ndarray,
    sample_rate_hz: int,
    role: PanelRole,
    *,
    beats: np.ndarray | None = None,
    key: str | None = None,
) -> np.ndarray:
    """The rule baseline's part for an input, rendered with the default SoundFont.

    Args:
        wav: the input part, mono [S].
        sample_rate_hz: its rate, also the output's.
        role: what to play: "bass", "drums", "harmonic" or "instrumental" (both of the
            latter two).
        beats: the input's `beat_times` [N] when already known (e.g. the panel's
            `InputAnalysis.beats`), saving their computation; None: computed here.
        key: the input's `key_of` when already known; None: computed here.
    Returns:
        the part [S] float32, finite; silence for an inaudible or non-finite input.
    """
    wav = np.asarray(wav, dtype=np.float32).reshape(-1)
    if not audible(wav):
        return np.zeros(wav.size, dtype=np.float32)
    if beats is None:
        beats = beat_times(wav, sample_rate_hz)
    if key is None:
        key = key_of(wav, sample_rate_hz)
    # A band is the triads and the drums together.
    roles: tuple[PanelRole, ...] = ("harmonic", "drums") if role == "instrumental" else (role,)
    font = str(default_soundfont())
    parts = [rule_part(wav, sample_rate_hz, r, beats=beats, key=key) for r in roles]
    rendered = [render_part(part, wav.size, sample_rate_hz, 1, font)[0] for part in parts]
    audio = np.sum(rendered, axis=0)  # [S]
    level = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    if level > 0:  # to the input's level, then never clipping
        target = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64))))
        audio = peak_normalize((audio * (target / level)).astype(np.float32))
    return np.nan_to_num(audio).astype(np.float32)


def rule_part(
    wav: np.ndarray,
    sample_rate_hz: int,
    role: PanelRole,
    *,
    beats: np.ndarray | None = None,
    key: str | None = None,
) -> Part:
    """The notes the rule baseline plays for an input (before rendering).

    Where madmom finds no key (only for inaudible audio: its CNN always answers
    otherwise), the key is C major. Where it finds fewer than 2 beats, the beats are a
    120 BPM grid from the first onset.

    Args:
        wav: the input part, mono [S].
        sample_rate_hz: its rate.
        role: "bass", "drums" or "harmonic".
        beats: the input's beat times [N] if known (`rule_accompaniment`).
        key: the input's key if known.
    Returns:
        the part, notes in seconds from the clip's start.
    """
    if role not in get_args(PanelRole) or role == "instrumental":  # two parts: see above
        raise ValueError(f"unknown panel role {role!r}; known: {', '.join(get_args(PanelRole))}")
    duration_s = wav.size / sample_rate_hz
    if beats is None:
        beats = beat_times(wav, sample_rate_hz)
    beats = np.sort(np.asarray(beats, dtype=np.float64).reshape(-1))
    beats = beats[np.isfinite(beats) & (beats >= 0) & (beats < duration_s)]
    if beats.size < 2:
        start_s = _first_onset_s(wav, sample_rate_hz)
        beats = np.arange(start_s, duration_s, 60.0 / FALLBACK_BPM)
        logger.info("fewer than 2 beats found; playing a %g BPM grid", FALLBACK_BPM)
    if key is None:
        key = key_of(wav, sample_rate_hz)
    tonic, mode = mir_eval.key.split_key_string(key or FALLBACK_KEY)
    ends = _note_ends(beats, duration_s)
    if role == "drums":
        return _drum_part(beats, duration_s)
    if role == "bass":
        return _bass_part(beats, ends, tonic)
    return _triad_part(beats, ends, tonic, mode)


def _first_onset_s(wav: np.ndarray, sample_rate_hz: int) -> float:
    """Time of the first sample louder than `ONSET_FRACTION` of the peak (0 for silence)."""
    magnitude = np.nan_to_num(np.abs(wav))  # [S]
    peak = float(magnitude.max(initial=0.0))
    if peak <= 0:
        return 0.0
    return float(np.argmax(magnitude >= ONSET_FRACTION * peak)) / sample_rate_hz


def _note_ends(beats: np.ndarray, duration_s: float) -> np.ndarray:
    """Each beat's note ends just before the next beat (the last one a median beat later).

    Returns:
        end times [N] in seconds, within the clip.
    """
    if beats.size == 0:
        return beats
    period = float(np.median(np.diff(beats))) if beats.size > 1 else 60.0 / FALLBACK_BPM
    nexts = np.append(beats[1:], beats[-1] + period)
    return np.minimum(beats + 0.9 * (nexts - beats), duration_s)


def _bass_part(beats: np.ndarray, ends: np.ndarray, tonic: int) -> Part:
    """Root on even beats, fifth on odd ones."""
    root = BASS_LOWEST + (tonic - BASS_LOWEST) % 12
    fifth = root + 7 if root + 7 <= BASS_HIGHEST else root - 5
    notes = [
        Note(float(s), float(e), fifth if i % 2 else root, VELOCITY)
        for i, (s, e) in enumerate(zip(beats, ends, strict=True))
    ]
    return Part("bass", BASS_PROGRAM, False, "electric bass", "bass", notes)


def _drum_part(beats: np.ndarray, duration_s: float) -> Part:
    """Kick on even beats, snare on odd ones, a closed hi-hat on every beat."""
    notes = []
    for i, start in enumerate(beats):
        end = min(float(start) + DRUM_HIT_S, duration_s)
        notes.append(Note(float(start), end, SNARE if i % 2 else KICK, VELOCITY))
        notes.append(Note(float(start), end, CLOSED_HAT, VELOCITY * 3 // 4))
    return Part("drums", 0, True, "drum set", "", notes)


def _triad_part(beats: np.ndarray, ends: np.ndarray, tonic: int, mode: str) -> Part:
    """The tonic triad (major or minor third) on every beat."""
    root = TRIAD_ROOT_LOWEST + tonic % 12
    third = 3 if mode == "minor" else 4
    notes = [
        Note(float(s), float(e), root + step, VELOCITY * 3 // 4)
        for s, e in zip(beats, ends, strict=True)
        for step in (0, third, 7)
    ]
    return Part("chords", PIANO_PROGRAM, False, "piano", "", notes)
