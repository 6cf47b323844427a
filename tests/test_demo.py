"""The demo: its settings, and one tiny run of the whole loop (synth -> tokenize -> train ->
generate -> evaluate) with the shipped codec."""

import json
import shutil
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from bandmate import checkpoint_files as shipped
from bandmate.cli import main
from bandmate.demo import load_demo_config, train_settings, weights_digest
from bandmate.errors import ConfigError


def test_one_train_override_keeps_the_other_demo_settings():
    settings = train_settings(load_demo_config(None, ["train.steps=7"]))
    assert settings["steps"] == 7
    assert settings["batch_size"] == 8 and settings["model"]["preset"] == "tiny"


def test_unknown_train_key_fails_before_any_stage(tmp_path: Path):
    with pytest.raises(ConfigError, match="nope"):
        load_demo_config(None, ["train.nope=1", f"out={tmp_path}"])
    assert list(tmp_path.iterdir()) == []


def test_tiny_demo_runs_every_stage(tmp_path: Path, capsys):
    out = tmp_path / "demo"
    settings = [
        "songs=8",
        "eval_songs=3",
        "song_seconds=6",
        "clip_seconds=2",
        "semantic_clusters=16",
        "eval_clips=2",
        "candidates=2",  # the untrained model's parts are noise: no drawing on to 32
        "max_candidates=2",
        "train.steps=4",
        "train.eval_every=2",
        "train.checkpoint_every=2",
        "train.log_every=2",
    ]
    args = ["demo", "--train", "--out", str(out)]
    for setting in settings:
        args += ["--set", setting]
    assert main(args) == 0
    metrics = json.loads((out / "report" / "metrics.json").read_text())
    assert metrics["n_clips"] == 2
    assert metrics["settings"]["split"] == "all"  # held-out songs rendered with another seed
    assert (out / "report" / "index.html").is_file()
    printed = capsys.readouterr().out
    assert "| generated |" in printed and "report:" in printed
    # Resumable: a second run reuses every stage.
    assert main(args) == 0
    assert "reusing" in capsys.readouterr().out


def test_shipped_demo_evaluates_each_shipped_model_and_the_chorales(
    tmp_path: Path, delay_checkpoint: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    root = tmp_path / "assets"
    model = root / "bass-to-instrumental"
    shutil.copytree(delay_checkpoint, model)
    manifest = json.loads((model / "tokens.json").read_text())
    manifest["pair"] = {"input": "bass", "target": "all-but:vocals"}
    (model / "tokens.json").write_text(json.dumps(manifest))
    monkeypatch.setattr(shipped, "assets_root", lambda: root)
    # No reserved-timbre fonts here: that set is skipped with one line (synth's tests
    # render it; tests/synth/test_timbres.py).
    (tmp_path / "no-fonts").mkdir()
    monkeypatch.setenv("BANDMATE_SOUNDFONTS", str(tmp_path / "no-fonts"))
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--set", "mode=shipped"]
    settings = (
        "eval_songs=3",
        "song_seconds=5",
        "eval_clips=2",
        "candidates=1",
        "max_candidates=1",
    )
    for setting in settings:
        args += ["--set", setting]
    assert main(args) == 0
    songs = json.loads((out / "report" / "bass-to-instrumental" / "metrics.json").read_text())
    chorales = out / "report" / "bass-to-instrumental-chorales" / "metrics.json"
    chorale_metrics = json.loads(chorales.read_text())
    assert songs["n_clips"] == 2 and chorale_metrics["n_clips"] == 2
    assert songs["settings"]["input"] == "" and chorale_metrics["settings"]["input"] == (
        "tuba,bassoon"
    )
    printed = capsys.readouterr().out
    assert "| bass-to-instrumental (chorales) | single |" in printed
    assert "| bass-to-instrumental | original |" in printed
    assert "| bass-to-instrumental | rule |" in printed  # the floor, beside the model
    assert "skipped: no reserved-timbre SoundFont installed" in printed
    # Again with the same weights: every report stands. With new weights (an upgraded
    # package): evaluated again, never a stale figure.
    assert main(args) == 0
    assert capsys.readouterr().out.count("reusing") == 4  # 2 data sets + 2 reports
    weights = str(model / "model.safetensors")
    tensors = load_file(weights)
    name = next(iter(tensors))
    save_file({**tensors, name: tensors[name] + 1}, weights)
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert printed.count("was made with other weights or settings") == 2
    # Other generation settings: evaluated again too.
    assert main([*args, "--set", "max_candidates=2"]) == 0
    assert capsys.readouterr().out.count("was made with other weights or settings") == 2
    metrics = json.loads((out / "report" / "bass-to-instrumental" / "metrics.json").read_text())
    assert metrics["settings"]["generate"]["max_candidates"] == 2


def test_shipped_demo_says_when_nothing_ships(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setattr(shipped, "assets_root", lambda: tmp_path / "none")
    assert main(["demo", "--out", str(tmp_path / "demo"), "--set", "mode=shipped"]) == 2
    assert "make demo TRAIN=1" in capsys.readouterr().err


def test_table_names_only_the_reports_of_its_rows(tmp_path: Path, capsys):
    from bandmate.demo import print_table

    report = tmp_path / "report"  # the trained model's, beside the shipped mode's reports
    (report / "bass-to-drums").mkdir(parents=True)
    (report / "bass-to-drums" / "index.html").write_text("<html></html>")
    print_table({"generated": {"outcome/music": 0.5, "n_clips": 2}}, [report])
    printed = capsys.readouterr().out
    assert "| generated | single | 0.500 |" in printed
    assert [line for line in printed.splitlines() if line.startswith("report:")] == [
        f"report: {report / 'index.html'}"
    ]


def test_a_report_is_stale_when_the_checkpoints_sampling_defaults_change(
    delay_checkpoint: Path, tmp_path: Path
):
    # The demo leaves candidates to each checkpoint (model.json meta): a new default there
    # with the same weights must not let an old report stand.
    model = tmp_path / "model"
    shutil.copytree(delay_checkpoint, model)
    before = weights_digest(model)
    info = json.loads((model / "model.json").read_text())
    info["meta"] = {**info.get("meta", {}), "candidates": 16}
    (model / "model.json").write_text(json.dumps(info))
    assert weights_digest(model) != before
