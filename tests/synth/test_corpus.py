"""Music21 corpus sources: a Bach chorale (voices as stems) and a folk tune with a band."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bandmate.data.roles import Role, role_of
from bandmate.synth.corpus import chorale_song, folk_song, harmonize
from bandmate.synth.score import BeatNote
from bandmate.synth.theory import Key


def test_harmonize_picks_the_chord_of_the_bar() -> None:
    key = Key(0, "major")
    melody = [BeatNote(0, 1, 67, 90), BeatNote(1, 1, 71, 90), BeatNote(2, 2, 74, 90)]  # G B D
    melody += [BeatNote(4 + b, 1, p, 90) for b, p in enumerate((65, 69, 72, 69))]  # F A C A
    assert [c.root for c in harmonize(melody, key, 3, 4.0)] == [7, 5, 0]


def test_chorale_has_four_voices_from_the_score() -> None:
    song = chorale_song(np.random.default_rng([0, 1]), 12.0, "chorale")
    assert song.source == "chorale" and song.origin.startswith("music21 corpus: bach/")
    assert [p.name for p in song.parts] == ["soprano", "alto", "tenor", "bass"]
    assert [p.component for p in song.parts] == ["melody", "", "", "bass"]
    means = [np.mean([n.pitch for n in p.notes]) for p in song.parts]
    assert means == sorted(means, reverse=True)  # soprano above alto above tenor above bass
    assert all(n.end_s <= 12.0 for p in song.parts for n in p.notes)


def test_folk_tune_is_the_lead_of_a_band() -> None:
    song = folk_song(np.random.default_rng([0, 2]), 12.0, "folk")
    assert song.origin.startswith("music21 corpus: ryansMammoth/")
    assert [p.name for p in song.parts][:4] == ["drums", "bass", "chords", "lead"]
    assert all(p.notes for p in song.parts)
    lead = song.parts[3]
    assert lead.component == "melody" and role_of(lead.label) in (Role.OTHER, Role.VOCALS)


def test_held_out_chorales_never_reach_training_songs() -> None:
    from bandmate.synth.corpus import corpus_paths, held_out_chorale_song, is_held_out

    paths = corpus_paths("bach")
    share = sum(is_held_out(p) for p in paths) / len(paths)
    assert 0.05 < share < 0.15
    for seed in range(6):
        song = chorale_song(np.random.default_rng([seed, 2]), 4.0, "c")
        assert not is_held_out(Path(song.origin.split("bach/")[1]))
    ood = held_out_chorale_song(np.random.default_rng([0, 3]), 4.0, "ood")
    assert is_held_out(Path(ood.origin.split("bach/")[1]))
    labels = [part.label for part in ood.parts]
    assert labels[3] in ("tuba", "bassoon") and "female singer" not in labels
    assert ood.source == "chorale-heldout"
