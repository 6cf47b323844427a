import json
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bandmate.checkpoint import tokenizer_files
from bandmate.cli import main
from bandmate.config import save_config
from bandmate.data.clips import ClipConfig
from bandmate.data.reserved import dataset_soundfonts, is_reserved
from bandmate.errors import BandmateError
from bandmate.tokens import pipeline
from bandmate.tokens.config import SemanticConfig, TokenizeConfig
from bandmate.tokens.layout import layout_from_manifest
from bandmate.tokens.semantic import load_semantic
from bandmate.tokens.shards import load_split, read_manifest
from bandmate.train.config import DataConfig
from bandmate.train.data import make_batch, open_token_data
from tests.tokens.conftest import write_song

SONGS = ("Alpha_One", "Beta_Two", "Gamma_Three", "Delta_Four")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("medleydb")
    for song in SONGS:
        write_song(root, song)
    return root


def make_config(root: Path, encodec_dir: Path) -> TokenizeConfig:
    return TokenizeConfig(
        root=str(root),
        preset="drums-to-bass",
        clips=ClipConfig(clip_seconds=1.0),
        codec=f"encodec:{encodec_dir}@3kbps",
        semantic=SemanticConfig(num_clusters=16),
        batch_clips=2,
    )


def read_all(out: Path) -> dict[str, bytes]:
    """Every output file but the work chunks, by relative path."""
    files = [p for p in out.rglob("*") if p.is_file() and ".work" not in p.parts]
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(files)}


def test_shards_have_the_shapes_training_reads(tmp_path: Path, dataset: Path, encodec_dir: Path):
    config = make_config(dataset, encodec_dir)
    manifest = pipeline.tokenize_dataset(config, tmp_path / "tok")
    assert manifest == read_manifest(tmp_path / "tok")
    assert manifest["timbres"] == []  # not a `bandmate synth` dataset: no SoundFont
    assert manifest["codec"]["spec"] == config.codec
    assert manifest["codec"]["num_codebooks"] == 4
    assert manifest["semantic"]["spec"] == "spectral/kmeans16"
    assert manifest["frames"] == {"semantic": 50, "acoustic": 75}
    total = 0
    for split, info in manifest["splits"].items():
        tokens = load_split(tmp_path / "tok", split, verify=True)
        n = info["clips"]
        total += n
        assert tokens.input_semantic.shape == tokens.target_semantic.shape == (n, 50)
        assert tokens.target_acoustic.shape == (n, 4, 75)
        assert len(tokens.clips) == n and isinstance(tokens.input_semantic, np.memmap)
        if n:
            assert tokens.input_semantic.min() >= 0 and tokens.input_semantic.max() < 16
            assert tokens.target_acoustic.min() >= 0 and tokens.target_acoustic.max() < 1024
    assert total == 3 * len(SONGS)  # 3 s songs, 1 s clips, no silence
    assert (tmp_path / "tok" / "config.yaml").exists()
    assert manifest["semantic"]["centroids"] == "centroids.safetensors"
    # A checkpoint copies the files the manifest names; they alone rebuild the tokenizer.
    for name in tokenizer_files(manifest, tmp_path / "tok"):
        shutil.copy(tmp_path / "tok" / name, tmp_path / name)
    assert load_semantic(tmp_path).spec == manifest["semantic"]["spec"]


@pytest.mark.parametrize("kind", ["flatten", "delay"])
def test_training_layout_accepts_the_shards(
    tmp_path: Path, dataset: Path, encodec_dir: Path, kind: str
):
    pipeline.tokenize_dataset(make_config(dataset, encodec_dir), tmp_path / "tok")
    manifest, train = read_manifest(tmp_path / "tok"), load_split(tmp_path / "tok", "train")
    layout = layout_from_manifest(
        manifest, kind, train.target_semantic.shape[1], train.target_acoustic.shape[1:]
    )
    targets = layout.target_tokens(train.target_semantic, train.target_acoustic)
    ranges = layout.position_ranges()  # [*target_shape, 2]
    assert ((targets >= ranges[..., 0]) & (targets < ranges[..., 1])).all()
    assert layout.encoder_tokens(train.input_semantic).shape == (len(train), 51)


def test_killed_run_resumes_to_the_same_shards(
    tmp_path: Path, dataset: Path, encodec_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    config = make_config(dataset, encodec_dir)
    pipeline.tokenize_dataset(config, tmp_path / "clean")

    written = []
    real_write = pipeline.write_chunk

    def crash_after_two(path, tokens):
        if len(written) == 2:
            raise KeyboardInterrupt  # the run is killed while working on the third song
        real_write(path, tokens)
        written.append(path)

    monkeypatch.setattr(pipeline, "write_chunk", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        pipeline.tokenize_dataset(config, tmp_path / "resumed")
    assert not (tmp_path / "resumed" / "manifest.json").exists()
    monkeypatch.setattr(pipeline, "write_chunk", real_write)

    redone = []
    monkeypatch.setattr(pipeline, "tokenize_pair", counting(pipeline.tokenize_pair, redone))
    pipeline.tokenize_dataset(config, tmp_path / "resumed")
    assert len(redone) == len(SONGS) - 2  # finished songs are not tokenized again
    assert read_all(tmp_path / "resumed") == read_all(tmp_path / "clean")


def counting(function, calls: list):
    def wrapper(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)

    return wrapper


def test_rerun_with_another_config_is_refused(tmp_path: Path, dataset: Path, encodec_dir: Path):
    config = make_config(dataset, encodec_dir)
    pipeline.tokenize_dataset(config, tmp_path / "tok")
    with pytest.raises(BandmateError, match=r"another config.*semantic"):
        pipeline.tokenize_dataset(
            replace(config, semantic=SemanticConfig(num_clusters=8)), tmp_path / "tok"
        )


def test_a_folder_that_is_not_a_token_directory_is_left_alone(
    tmp_path: Path, dataset: Path, encodec_dir: Path
):
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(BandmateError, match="not empty and not a token directory"):
        pipeline.tokenize_dataset(make_config(dataset, encodec_dir), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


def test_silent_and_broken_songs_are_skipped_and_counted(
    tmp_path: Path, dataset: Path, encodec_dir: Path
):
    root = tmp_path / "data"
    for song in SONGS[:3]:
        write_song(root, song)
    for stem in (root / "V1" / SONGS[0]).rglob("*.wav"):
        stem.write_bytes(b"not audio")  # every stem of the first song is unreadable
    manifest = pipeline.tokenize_dataset(make_config(root, encodec_dir), tmp_path / "tok")
    assert sum(s["clips"] for s in manifest["splits"].values()) == 6
    assert any("unreadable song" in reason for reason in manifest["skipped"]["clips"])


def test_cli_tokenize_prints_a_summary(
    tmp_path: Path, dataset: Path, encodec_dir: Path, capsys: pytest.CaptureFixture[str]
):
    config_file = tmp_path / "tokenize.yaml"
    config_file.write_text(
        f"root: {dataset}\npreset: drums-to-bass\nclips: {{clip_seconds: 1.0}}\n"
        f"codec: encodec:{encodec_dir}@3kbps\n"
    )
    argv = ["tokenize", "--config", str(config_file), "--out", str(tmp_path / "tok")]
    code = main([*argv, "--set", "semantic.num_clusters=8", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0 and f"{3 * len(SONGS)} clips" in out
    assert (
        json.loads((tmp_path / "tok" / "manifest.json").read_text())["semantic"]["vocab_size"] == 8
    )
    assert main(["tokenize", "--out", str(tmp_path / "x"), "--set", "nope=1"]) == 2
    assert "--set nope=1: unknown key" in capsys.readouterr().err


def test_finished_run_cleans_up_and_a_rerun_changes_nothing(
    tmp_path: Path, dataset: Path, encodec_dir: Path
):
    config = make_config(dataset, encodec_dir)
    pipeline.tokenize_dataset(config, tmp_path / "tok")
    assert not (tmp_path / "tok" / ".work").exists()
    before = read_all(tmp_path / "tok")
    (tmp_path / "tok" / "train" / ".stale.tmp.npy").write_bytes(b"x")  # as a kill leaves
    pipeline.tokenize_dataset(replace(config, workers=2), tmp_path / "tok")
    assert read_all(tmp_path / "tok") == before


@pytest.mark.slow
def test_two_workers_give_the_same_shards_as_one(tmp_path: Path, dataset: Path, encodec_dir: Path):
    config = make_config(dataset, encodec_dir)
    pipeline.tokenize_dataset(config, tmp_path / "one")
    pipeline.tokenize_dataset(replace(config, workers=2), tmp_path / "two")
    one, two = read_all(tmp_path / "one"), read_all(tmp_path / "two")
    assert one.pop("config.yaml") != two.pop("config.yaml")  # only `workers` differs
    assert one == two


@pytest.mark.slow
def test_sigkilled_cli_run_resumes_to_the_same_shards(
    tmp_path: Path, dataset: Path, encodec_dir: Path
):
    root = tmp_path / "data"
    for index in range(8):
        write_song(root, f"Song_{index}", seconds=6.0)
    config = replace(make_config(root, encodec_dir), semantic=SemanticConfig(num_clusters=8))
    pipeline.tokenize_dataset(config, tmp_path / "clean")
    config_file = tmp_path / "tokenize.yaml"
    save_config(config, config_file)
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "bandmate", "tokenize", "--config", str(config_file)]
    process = subprocess.Popen([*command, "--out", str(out), "--no-progress"])
    deadline = time.monotonic() + 120
    while not list(out.glob(".work/*/*.npz")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert len(list(out.glob(".work/*/*.npz"))) < 8  # killed part-way
    pipeline.tokenize_dataset(config, out)
    assert read_all(out) == read_all(tmp_path / "clean")


def test_synth_dataset_tokens_feed_training(tmp_path: Path, encodec_dir: Path):
    """`bandmate synth` -> `bandmate tokenize` (offline semantic tokens) -> training batches."""
    synth = ["synth", "--out", str(tmp_path / "synth"), "--songs", "4", "--seed", "0"]
    assert main([*synth, "--clip-seconds", "4", "--jobs", "1", "--no-progress"]) == 0
    config = replace(
        make_config(tmp_path / "synth", encodec_dir), preset="bass-to-all", splits=("train",)
    )
    manifest = pipeline.tokenize_dataset(config, tmp_path / "tok")
    assert manifest["splits"]["train"]["clips"] > 0
    # the timbres the dataset was rendered with (the varied pool's), for `train` to check
    assert manifest["timbres"] == dataset_soundfonts(tmp_path / "synth")
    assert len(manifest["timbres"]) > 1 and not [
        t for t in manifest["timbres"] if is_reserved(t["file"], t["sha256"])
    ]
    data = open_token_data(DataConfig(tokens=str(tmp_path / "tok")))
    batch = make_batch(data, data.train, np.arange(len(data.train)))
    assert batch["decoder_target_tokens"].shape == (len(data.train), data.target_length)


def test_k_means_can_fit_on_targets_too(dataset: Path, encodec_dir: Path):
    config = make_config(dataset, encodec_dir)
    pairs = pipeline.plan_pairs(config).pairs
    inputs = list(pipeline.fit_clips(pairs, config, 16_000))
    both_config = replace(config, semantic=SemanticConfig(num_clusters=16, fit_on="input+target"))
    both = list(pipeline.fit_clips(pairs, both_config, 16_000))
    assert len(both) == 2 * len(inputs)
    assert all(np.array_equal(a, b) for a, b in zip(both[::2], inputs, strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(both[1::2], inputs, strict=True))
    capped = replace(both_config, semantic=replace(both_config.semantic, fit_max_clips=3))
    assert len(list(pipeline.fit_clips(pairs, capped, 16_000))) == 3
    with pytest.raises(ValueError, match="fit_on 'target'"):
        SemanticConfig(fit_on="target")
    with pytest.raises(ValueError, match="chroma 'cqt'"):
        SemanticConfig(chroma="cqt")


def test_tokenizer_state_records_what_it_was_fitted_on(
    tmp_path: Path, dataset: Path, encodec_dir: Path
):
    config = make_config(dataset, encodec_dir)
    inputs = len(list(pipeline.fit_clips(pipeline.plan_pairs(config).pairs, config, 16_000)))
    config = replace(config, semantic=replace(config.semantic, fit_on="input+target"))
    pipeline.tokenize_dataset(config, tmp_path / "tok")
    state = json.loads((tmp_path / "tok" / "semantic.json").read_text())
    assert state["fitted_on"] == "input+target"
    assert state["fitted_on_clips"] == 2 * inputs


def test_reused_tokenizer_is_copied_not_fitted(
    tmp_path: Path, dataset: Path, encodec_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    """Fine-tuning on new data: the new tokens keep the first tokenizer's ids."""
    config = make_config(dataset, encodec_dir)
    pipeline.tokenize_dataset(config, tmp_path / "first")

    def no_fit(*args: object, **kwargs: object) -> None:
        raise AssertionError("fitted k-means instead of reusing it")

    monkeypatch.setattr(pipeline, "fit_semantic", no_fit)
    reuse = replace(config, semantic=replace(config.semantic, reuse=str(tmp_path / "first")))
    pipeline.tokenize_dataset(reuse, tmp_path / "again")
    first, again = read_all(tmp_path / "first"), read_all(tmp_path / "again")
    for name in ("semantic.json", "centroids.safetensors", "train/input_semantic.npy"):
        assert again[name] == first[name]


def test_reusing_a_tokenizer_of_other_settings_is_a_one_line_error(
    tmp_path: Path, dataset: Path, encodec_dir: Path, capsys: pytest.CaptureFixture[str]
):
    """The shipped bass-to-instrumental's 256 clusters of 4 MFCCs and salience chroma
    against the config's 16 clusters of the default features."""
    config = make_config(dataset, encodec_dir)
    shipped = replace(config.semantic, reuse="bandmate:bass-to-instrumental")
    with pytest.raises(BandmateError, match=r"spectral:mfcc4.*kmeans256.*spectral/kmeans16"):
        pipeline.tokenize_dataset(replace(config, semantic=shipped), tmp_path / "tok")
    assert not (tmp_path / "tok").exists()  # stopped before writing anything
    matching = replace(shipped, n_mfcc=4, chroma_fft=4096, chroma="salience", num_clusters=256)
    assert pipeline.reused_state(replace(config, semantic=matching)).name == "tokenizer"
    capsys.readouterr()  # what the calls above printed
    argv = ["tokenize", "--out", str(tmp_path / "cli"), "--set", f"root={dataset}"]
    argv += ["--set", "preset=drums-to-bass", "--set", "semantic.reuse=bandmate:nope"]
    assert main([*argv, "--no-progress"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bandmate:nope" in err
