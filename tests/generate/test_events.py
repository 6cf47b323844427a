"""`bandmate tokenize --set target_format=events` -> training batches -> an events checkpoint
that `bandmate generate` turns into MIDI, audio and a mix."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from bandmate.cli import main
from bandmate.config import load_config
from bandmate.data.clips import ClipConfig
from bandmate.errors import ConfigError, DataError
from bandmate.tokens import pipeline
from bandmate.tokens.config import SemanticConfig, TokenizeConfig
from bandmate.tokens.events import DRUM_PROGRAM, EventVocab, Grammar, read_midi_notes
from bandmate.tokens.shards import load_split
from bandmate.train.config import DataConfig, TrainConfig
from bandmate.train.data import make_batch, open_token_data
from bandmate.train.loop import train
from tests.tokens.conftest import write_song

SONGS = ("Alpha_One", "Beta_Two", "Gamma_Three", "Delta_Four", "Eps_Five")
BPM = 120.0


def write_midi(path: Path, seconds: float, drums: bool, program: int, offset: int) -> None:
    """Kick on the beats and hats on the eighths, or one note per beat."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=BPM)
    part = pretty_midi.Instrument(program, is_drum=drums)
    for step in range(int(seconds * BPM / 30)):  # eighth notes
        start = step * 30 / BPM
        if drums:
            part.notes.append(pretty_midi.Note(100, 42, start, start + 0.1))
            if step % 2 == 0:
                part.notes.append(pretty_midi.Note(110, 36, start, start + 0.1))
        elif step % 2 == 0:
            part.notes.append(pretty_midi.Note(90, 36 + offset + step % 5, start, start + 0.4))
    midi.instruments.append(part)
    path.parent.mkdir(parents=True, exist_ok=True)
    midi.write(str(path))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MedleyDB-layout songs (drum set, electric bass, piano) with MIDI beside each stem."""
    root = tmp_path_factory.mktemp("events")
    for index, song in enumerate(SONGS):
        stem_dir = write_song(root, song, seconds=5.0)
        midi_dir = stem_dir.parent / f"{song}_MIDI"
        for stem, (drums, program) in enumerate(((True, 0), (False, 33), (False, 0)), start=1):
            write_midi(midi_dir / f"{song}_STEM_{stem:02d}.mid", 5.0, drums, program, index)
    return root


def events_config(root: Path, encodec_dir: Path, preset: str = "bass-to-drums") -> TokenizeConfig:
    return TokenizeConfig(
        root=str(root),
        preset=preset,
        clips=ClipConfig(clip_seconds=2.0, hop_seconds=1.0),
        codec=f"encodec:{encodec_dir}@3kbps",
        semantic=SemanticConfig(num_clusters=8),
        splits=("train", "valid", "test"),
        target_format="events",
        max_events=128,
    )


@pytest.fixture(scope="module")
def tokens(dataset: Path, encodec_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tok") / "events"
    pipeline.tokenize_dataset(events_config(dataset, encodec_dir), out)
    return out


def test_event_shards_hold_the_target_midi_on_the_beat_grid(tokens: Path, dataset: Path) -> None:
    manifest = json.loads((tokens / "manifest.json").read_text())
    assert manifest["target_format"] == "events"
    vocab = EventVocab(manifest["events"]["offset"])
    split = load_split(tokens, "train")
    assert split.target_events is not None and split.beats_s is not None
    assert split.target_events.shape[1] == 128 and len(split) > 0
    rows = np.asarray(split.target_events).astype(np.int64)
    assert Grammar(vocab, np.full(len(rows), 64), (DRUM_PROGRAM,)).accepts(rows).all()
    # the first clip's events are the drum MIDI's notes inside it (4 beats at 120 BPM)
    clip = split.clips[0]
    assert np.allclose(split.beats_s[0][:4], [0.0, 0.5, 1.0, 1.5])
    notes, _ = read_midi_notes(next(dataset.rglob(f"{clip['song']}_STEM_01.mid")))
    first = clip["start_s"] * BPM / 60
    inside = sorted(
        (round(n.onset_beats - first, 6), n.pitch)
        for n in notes
        if first <= n.onset_beats < first + 4
    )
    decoded = sorted((round(n.onset_beats, 6), n.pitch) for n in vocab.decode(rows[0]))
    assert decoded == inside and len(decoded) == 12


def test_batches_carry_each_clips_query_frames(tokens: Path) -> None:
    data = open_token_data(DataConfig(tokens=str(tokens), layout="events"))
    batch = make_batch(data, data.train, np.arange(min(3, len(data.train))))
    targets, frames = batch["decoder_target_tokens"], batch["query_frames"]
    assert frames.shape == targets.shape and targets.shape[1] % 32 == 0
    assert (frames.diff(dim=1) >= 0).all() and int(frames.max()) < data.layout.semantic_frames
    assert ((targets != 0).float() == batch["decoder_loss_weights"]).all()
    with pytest.raises(ConfigError, match=r"set data\.layout=events"):
        open_token_data(DataConfig(tokens=str(tokens), layout="delay"))


def test_a_dataset_without_midi_is_a_one_line_error(tmp_path: Path, encodec_dir: Path) -> None:
    for song in SONGS[:2]:
        write_song(tmp_path / "data", song)
    with pytest.raises(DataError, match="needs a dataset that ships MIDI"):
        pipeline.tokenize_dataset(events_config(tmp_path / "data", encodec_dir), tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def checkpoint(tokens: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny events model trained a few steps (the configs' recipe at the tiny size)."""
    out = tmp_path_factory.mktemp("run") / "events"
    config = load_config(
        TrainConfig,
        Path("configs/events-mini.yaml"),
        [f"data.tokens={tokens}", f"out={out}", "model.preset=tiny", "model.num_encoder_layers=2",
         "model.num_decoder_layers=2", "steps=30", "batch_size=4", "eval_every=15",
         "checkpoint_every=15", "log_every=5", "optim.warmup_steps=0", "optim.lr=0.01"],
    )  # fmt: skip
    train(config)
    return out


def test_the_events_model_learns(checkpoint: Path) -> None:
    rows = [json.loads(line) for line in (checkpoint / "metrics.jsonl").read_text().splitlines()]
    losses = [r["train/loss"] for r in rows if "train/loss" in r]
    assert losses[-1] < 0.7 * losses[0]


def test_generate_writes_midi_audio_and_mix_for_long_inputs(
    checkpoint: Path, tmp_path: Path
) -> None:
    rate, seconds = 16_000, 6.5  # 2 s windows overlapping by 1 s: 6 windows
    t = np.arange(round(seconds * rate)) / rate
    bass = (0.3 * np.sin(2 * np.pi * 55 * t) * (np.sin(2 * np.pi * 2 * t) > 0)).astype(np.float32)
    sf.write(tmp_path / "bass.wav", bass, rate)
    out = tmp_path / "out"
    assert main(["generate", str(tmp_path / "bass.wav"), "--checkpoint", str(checkpoint),
                 "--out", str(out), "--candidates", "2", "--program", "drums=25"]) == 0  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == [
        "accompaniment.mid", "accompaniment.wav", "generation.json", "mix.wav",
    ]  # fmt: skip
    report = json.loads((out / "generation.json").read_text())
    assert report["windows"] == 6
    audio, audio_rate = sf.read(out / "accompaniment.wav")
    assert audio_rate == rate and len(audio) == len(bass)
    midi = pretty_midi.PrettyMIDI(str(out / "accompaniment.mid"))
    assert all(i.is_drum and i.program == 25 for i in midi.instruments)
    assert abs(midi.get_tempo_changes()[1][0] - 120) < 5  # the input's beats: 2 per second
    notes = [n for i in midi.instruments for n in i.notes]
    assert notes and max(n.start for n in notes) < seconds  # notes, inside the input


def test_generate_on_a_folder_and_bad_program(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rate = 16_000
    t = np.arange(3 * rate) / rate
    (tmp_path / "in").mkdir()
    for name, freq in (("a", 55.0), ("b", 73.0)):
        sf.write(
            tmp_path / "in" / f"{name}.wav",
            (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32),
            rate,
        )
    assert main(["generate", str(tmp_path / "in"), "--checkpoint", str(checkpoint),
                 "--out", str(tmp_path / "out")]) == 0  # fmt: skip
    assert (tmp_path / "out" / "a" / "accompaniment.mid").is_file()
    assert (tmp_path / "out" / "b" / "accompaniment.mid").is_file()
    code = main(["generate", str(tmp_path / "in"), "--checkpoint", str(checkpoint),
                 "--out", str(tmp_path / "bad"), "--program", "tuba=58"])  # fmt: skip
    assert code != 0 and not (tmp_path / "bad").exists()
    assert "--program tuba=58" in capsys.readouterr().err
    missing = str(tmp_path / "no.sf2")
    code = main(["generate", str(tmp_path / "in"), "--checkpoint", str(checkpoint),
                 "--out", str(tmp_path / "bad"), "--soundfont", missing])  # fmt: skip
    assert code != 0 and not (tmp_path / "bad").exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no.sf2: --soundfont not found" in err[0]


def test_without_the_player_an_events_checkpoint_fails_on_one_line_before_decoding(
    checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "tinysoundfont" else find_spec(name, *a),
    )
    wav = tmp_path / "in.wav"
    sf.write(wav, (0.3 * np.sin(np.arange(16_000) * 0.02)).astype(np.float32), 16_000)
    code = main(
        ["generate", str(wav), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not (tmp_path / "o").exists()
    assert len(err) == 1 and "pip install --no-deps tinysoundfont" in err[0]


def test_evaluate_scores_an_events_checkpoint(
    checkpoint: Path, dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    assert main(["evaluate", "--checkpoint", str(checkpoint), "--data", str(dataset),
                 "--out", str(out), "--split", "all", "--clips", "2", "--candidates", "1",
                 "--max-candidates", "1"]) == 0  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    assert "panel/role_plausible" in metrics and "codec" not in metrics["baselines"]
    assert "token_accuracy" not in metrics  # no codec tokens to score teacher-forced


def test_beat_grids_faster_than_training_songs_are_halved(monkeypatch: pytest.MonkeyPatch) -> None:
    from bandmate.generate import events
    from bandmate.metrics import mir

    eighths = np.arange(0.0, 4.0, 0.3)  # a 100 BPM bass line's eighths, tracked as 200 BPM
    monkeypatch.setattr(mir, "beat_times", lambda wav, rate: eighths)
    grid = events.beat_grid(np.zeros(16000 * 4, np.float32), 16000, 4.0)
    assert np.allclose(np.diff(grid), 0.6)
    monkeypatch.setattr(mir, "beat_times", lambda wav, rate: np.arange(0.0, 4.0, 0.5))
    assert np.allclose(np.diff(events.beat_grid(np.zeros(16000 * 4, np.float32), 16000, 4.0)), 0.5)


def test_sampled_windows_obey_the_grammar_and_keep_their_forced_starts(checkpoint: Path) -> None:
    import torch

    from bandmate.generate.accompanist import Accompanist
    from bandmate.generate.events import Window, sample_events
    from bandmate.generate.sampling import SamplingConfig

    acc = Accompanist.from_checkpoint(checkpoint, "cpu")
    layout, vocab = acc.layout, acc.layout.events
    window = Window(0.0, 0, np.arange(4) * 0.5)
    encoder = torch.from_numpy(layout.encoder_tokens(np.zeros((3, layout.semantic_frames), int)))
    drums = (DRUM_PROGRAM,)
    forced = [
        np.array([vocab.beat, vocab.program + DRUM_PROGRAM, vocab.velocity + 5, vocab.drum + 1]),
        np.zeros(0, np.int64),
        np.array([vocab.beat + 1]),
    ]
    generator = torch.Generator().manual_seed(0)
    ids = sample_events(
        acc.model, layout, encoder, window, 50.0, SamplingConfig(), generator, drums, forced
    )
    for row, start in enumerate(forced):
        assert list(ids[row, : len(start)]) == list(start)
    padded = np.pad(ids, ((0, 0), (0, 1)), constant_values=0)
    assert Grammar(vocab, np.full(3, 4), drums).accepts(padded).all()
    for row in ids:  # each ended at the window's last beat, or ran out of room
        assert vocab.onsets_beats(row).max() >= 3 or len(row) == layout.event_steps


@pytest.mark.parametrize("guidance", [0.0, 2.0])
def test_prefilling_the_shared_forced_start_decodes_what_stepping_through_it_does(
    checkpoint: Path, guidance: float
) -> None:
    import torch

    from bandmate.generate.accompanist import Accompanist
    from bandmate.generate.events import Window, sample_events
    from bandmate.generate.sampling import SamplingConfig

    acc = Accompanist.from_checkpoint(checkpoint, "cpu")
    layout, vocab = acc.layout, acc.layout.events
    window = Window(0.0, 0, np.arange(6) * 0.5)
    semantic = np.random.default_rng(0).integers(0, 8, (2, layout.semantic_frames))
    encoder = torch.from_numpy(layout.encoder_tokens(semantic))
    kick = [vocab.program + DRUM_PROGRAM, vocab.velocity + 5, vocab.drum + 1]
    shared = [vocab.beat, *kick, vocab.beat + 1, *kick]
    forced = [np.array(shared), np.array([*shared, vocab.beat + 2, *kick])]  # 8 and 12 ids
    greedy = SamplingConfig(top_k=1, guidance=guidance)

    def decode(prefill: bool) -> np.ndarray:
        generator = torch.Generator().manual_seed(0)
        return sample_events(
            acc.model, layout, encoder, window, 50.0, greedy, generator, (DRUM_PROGRAM,),
            forced, prefill,
        )  # fmt: skip

    stepped, prefilled = decode(False), decode(True)
    assert list(prefilled[1, :12]) == list(forced[1])
    np.testing.assert_array_equal(prefilled, stepped)
