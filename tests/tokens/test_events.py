"""The events target's vocabulary: round trip, grammar, beat-grid time."""

from __future__ import annotations

import numpy as np
import pytest

from bandmate.tokens.events import (
    DRUM_KEYS,
    DRUM_PROGRAM,
    MAX_DURATION_TICKS,
    TICKS_PER_BEAT,
    EventVocab,
    Grammar,
    Note,
    beat_seconds,
    bin_velocity,
    query_frames,
    seconds_beats,
    velocity_bin,
)
from bandmate.tokens.ids import EOS_ID, PAD_ID
from bandmate.tokens.layout import TokenLayout

VOCAB = EventVocab(2 + 16)
ALL = tuple(range(17))


def random_notes(rng: np.random.Generator, count: int, beats: int) -> list[Note]:
    notes = []
    for _ in range(count):
        onset = rng.integers(0, beats * TICKS_PER_BEAT) / TICKS_PER_BEAT
        velocity = int(rng.integers(1, 128))
        if rng.random() < 0.4:
            notes.append(
                Note(onset, 1 / TICKS_PER_BEAT, int(rng.choice(DRUM_KEYS)), velocity, 0, True)
            )
        else:
            ticks = int(rng.integers(1, MAX_DURATION_TICKS + 1))
            program = int(rng.integers(0, 128))
            notes.append(
                Note(onset, ticks / TICKS_PER_BEAT, int(rng.integers(0, 128)), velocity, program)
            )
    return notes


def quantized(note: Note) -> tuple[float, float, int, int, int, bool]:
    """What survives a round trip: the tick, the duration's tick, the velocity bin, the family."""
    duration = 0 if note.is_drum else round(note.duration_beats * TICKS_PER_BEAT)
    return (
        round(note.onset_beats * TICKS_PER_BEAT),
        duration,
        note.pitch,
        velocity_bin(note.velocity),
        note.family,
        note.is_drum,
    )


@pytest.mark.parametrize("seed", range(5))
def test_round_trip_is_exact_at_the_vocabulary_resolution(seed: int) -> None:
    rng = np.random.default_rng(seed)
    notes = random_notes(rng, 60, beats=16)
    ids = VOCAB.encode(notes, 16)
    back = VOCAB.decode(ids)
    assert sorted(map(quantized, back)) == sorted(map(quantized, notes))
    assert np.array_equal(VOCAB.encode(back, 16), ids)
    assert ids[-1] == EOS_ID


def test_off_grid_onsets_round_to_the_nearest_tick_and_long_notes_are_cut() -> None:
    notes = [Note(1.04, 9.0, 40, 100, 33)]  # 1.04 beats = tick 12.48 -> 12; 9 beats > 4
    (back,) = VOCAB.decode(VOCAB.encode(notes, 4))
    assert back.onset_beats == 1.0
    assert back.duration_beats == MAX_DURATION_TICKS / TICKS_PER_BEAT
    assert velocity_bin(back.velocity) == velocity_bin(100)


def test_notes_outside_the_window_are_left_out() -> None:
    notes = [Note(-0.5, 0.5, 40, 90, 33), Note(4.0, 0.5, 41, 90, 33), Note(3.9, 0.5, 42, 90, 33)]
    back = VOCAB.decode(VOCAB.encode(notes, 4))
    assert [n.pitch for n in back] == [42]


def test_velocity_bins_map_back_to_themselves() -> None:
    assert [velocity_bin(bin_velocity(i)) for i in range(8)] == list(range(8))


@pytest.mark.parametrize("seed", range(3))
def test_the_grammar_accepts_every_encoded_target(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = [VOCAB.encode(random_notes(rng, 30, 8), 8) for _ in range(4)]
    width = max(len(r) for r in rows)
    ids = np.stack([np.pad(r, (0, width - len(r)), constant_values=PAD_ID) for r in rows])
    assert Grammar(VOCAB, np.full(4, 8), ALL).accepts(ids).all()


@pytest.mark.parametrize(
    "tokens",
    [
        [VOCAB.beat + 3, VOCAB.beat + 2],  # time runs backwards
        [VOCAB.beat, VOCAB.tick + 5, VOCAB.tick + 2],  # the tick too
        [VOCAB.beat + 8],  # beyond the window's 8 beats
        [VOCAB.beat, VOCAB.program + 4, VOCAB.velocity + 3, VOCAB.drum],  # drum under bass
        [VOCAB.beat, VOCAB.program + DRUM_PROGRAM, VOCAB.velocity + 3, VOCAB.pitch + 40],
        [VOCAB.beat, VOCAB.program + 4, VOCAB.velocity + 3, VOCAB.pitch + 40, VOCAB.pitch + 41],
        [VOCAB.beat, VOCAB.program + 4, VOCAB.velocity, VOCAB.duration],  # no pitch before it
        [VOCAB.beat, VOCAB.program + 4, VOCAB.pitch + 40],  # no velocity yet
        [VOCAB.beat, VOCAB.velocity, VOCAB.pitch + 40],  # no program yet
        [2 + 5],  # a semantic id
    ],
)
def test_the_grammar_rejects_what_the_format_forbids(tokens: list[int]) -> None:
    ids = np.array([[*tokens, EOS_ID]])
    assert not Grammar(VOCAB, np.array([8]), ALL).accepts(ids)[0]


def test_families_outside_the_target_are_never_allowed() -> None:
    grammar = Grammar(VOCAB, np.array([8]), (DRUM_PROGRAM,))
    allowed = grammar.allowed()[0]
    assert allowed[VOCAB.program + DRUM_PROGRAM] and not allowed[VOCAB.program + 4]


@pytest.mark.parametrize("seed", range(4))
def test_random_walks_under_the_mask_are_valid_and_keep_time_moving(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, beats = 6, np.array([4, 8, 8, 16, 2, 5])
    grammar = Grammar(VOCAB, beats, ALL)
    walk = []
    for _ in range(200):
        allowed = grammar.allowed()
        # EOS rarely, so that walks get long
        weights = allowed * np.where(np.arange(VOCAB.end) == EOS_ID, 0.01, 1.0)
        ids = np.array([rng.choice(VOCAB.end, p=w / w.sum()) for w in weights])
        grammar.advance(ids)
        walk.append(ids)
    # close the open walks: a DURATION for a pending PITCH, then EOS
    last = np.where(grammar.ended, PAD_ID, np.where(grammar.pending, VOCAB.duration, EOS_ID))
    close = np.where(grammar.ended | ~grammar.pending, PAD_ID, EOS_ID)
    ids = np.concatenate([np.stack(walk, axis=1), last[:, None], close[:, None]], axis=1)
    assert Grammar(VOCAB, beats, ALL).accepts(ids).all()
    for row in range(n):
        reached = VOCAB.onsets_beats(ids[row])
        assert np.all(np.diff(reached) >= 0)
        assert reached.max() < beats[row]


def test_beat_grid_time_is_invertible_inside_and_outside_the_beats() -> None:
    beats = np.array([0.5, 1.0, 1.6, 2.1, 2.7])  # tempo changes
    positions = np.array([-1.5, 0.0, 0.25, 2.5, 4.0, 6.0])
    seconds = beat_seconds(beats, positions)
    assert seconds[1] == 0.5 and seconds[4] == 2.7
    assert np.allclose(seconds_beats(beats, seconds), positions)
    assert np.all(np.diff(seconds) > 0)


def test_query_frames_follow_the_time_the_tokens_reached() -> None:
    notes = [Note(0.0, 1.0, 40, 90, 33), Note(2.5, 1.0, 45, 90, 33)]
    ids = VOCAB.encode(notes, 4)
    beats = np.array([0.1, 0.6, 1.1, 1.6])  # 120 BPM from 0.1 s
    frames = query_frames(VOCAB, ids, beats, 50.0, 100)
    assert frames[0] == 0 and np.all(np.diff(frames) >= 0)
    # after BEAT 2 and TICK 6 the next step hears 2.5 beats: 1.35 s, frame 68 (rounded)
    step = list(ids).index(VOCAB.tick + 6 - 1) + 1
    assert frames[step] == round(1.35 * 50)


def test_events_layout() -> None:
    layout = TokenLayout("events", 16, 0, 0, 100, 0, event_steps=64)
    assert layout.vocab_size == VOCAB.end and layout.target_shape == (64,)
    assert layout.num_streams == 1 and layout.events == VOCAB
    assert TokenLayout(**layout.to_dict()) == layout
    with pytest.raises(ValueError, match="note events"):
        layout.target_tokens(np.zeros((1, 100)), np.zeros((1, 1, 1)))


def test_decoding_may_end_only_at_the_windows_last_beat() -> None:
    grammar = Grammar(VOCAB, np.array([4]), ALL, end_at_last_beat=True)
    assert not grammar.allowed()[0, EOS_ID]
    grammar.advance(np.array([VOCAB.beat + 2]))
    assert not grammar.allowed()[0, EOS_ID]
    grammar.advance(np.array([VOCAB.beat + 3]))
    assert grammar.allowed()[0, EOS_ID]
