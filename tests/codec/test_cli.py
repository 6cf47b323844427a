from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from safetensors.torch import load_file

from bandmate.cli import main
from bandmate.codec import codec_from_checkpoint

TINY = [
    "--set", "model.convnext_dim=8", "--set", "model.convnext_layers=2",
    "--set", "model.mlp_mult=2", "--set", "model.latent_dim=8", "--set", "model.codebook_size=16",
    "--set", "batch_size=2", "--set", "segment_seconds=0.1",
    "--set", "kmeans_crops=2", "--set", "valid_crops=1", "--set", "plot=false",
]  # fmt: skip


def test_train_then_reconstruct_any_rate_and_length(
    audio_dir: Path, tmp_path: Path, capsys, make_plucks
) -> None:
    plucks = make_plucks
    out = tmp_path / "ckpt"
    code = main(["codec", "train", "--data", str(audio_dir), "--out", str(out), "--steps", "2",
                 *TINY, "--no-progress"])  # fmt: skip
    assert code == 0 and (out / "model.safetensors").is_file()
    stereo = np.stack([plucks(0.77, 44_100, 1), plucks(0.77, 44_100, 2)], axis=1)
    sf.write(tmp_path / "in.wav", stereo, 44_100)
    code = main(["codec", "reconstruct", str(tmp_path / "in.wav"), str(tmp_path / "out.wav"),
                 "--codec", f"bandmate:{out}"])  # fmt: skip
    assert code == 0
    info = sf.info(str(tmp_path / "out.wav"))
    assert (info.samplerate, info.channels, info.frames) == (44_100, 1, len(stereo))
    assert "frames x 4 codebooks" in capsys.readouterr().out


def test_reconstruct_with_a_missing_codec_fails_in_one_line(
    tmp_path: Path, capsys, make_plucks
) -> None:
    sf.write(tmp_path / "in.wav", make_plucks(0.2, 16_000, 0), 16_000)
    code = main(["codec", "reconstruct", str(tmp_path / "in.wav"), str(tmp_path / "o.wav"),
                 "--codec", str(tmp_path / "nope")])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "nope" in err
    assert not (tmp_path / "o.wav").exists()


def test_bad_override_is_rejected_before_training(audio_dir: Path, tmp_path: Path, capsys) -> None:
    code = main(["codec", "train", "--data", str(audio_dir), "--out", str(tmp_path / "o"),
                 "--set", "no_such_field=3"])  # fmt: skip
    assert code == 2 and "no_such_field" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_resume_takes_a_new_quantizer_start_and_ignores_other_settings(
    audio_dir: Path, tmp_path: Path, caplog
) -> None:
    out = tmp_path / "ae"
    train = ["codec", "train", "--data", str(audio_dir), "--out", str(out), "--no-progress"]
    assert main([*train, "--steps", "2", *TINY, "--set", "vq_start_step=1000000"]) == 0
    resume = [*train, "--steps", "3", "--set", "vq_start_step=2", "--set", "learning_rate=9"]
    assert main(resume) == 0
    state = json.loads((out / "train/state.json").read_text())
    assert state["step"] == 3 and state["config"]["vq_start_step"] == 2
    assert state["config"]["learning_rate"] == 1e-3
    assert "ignoring learning_rate" in caplog.text


def test_export_writes_a_half_size_codec_that_codes_alike(
    audio_dir: Path, tmp_path: Path, make_plucks
) -> None:
    out = tmp_path / "run"
    assert main(["codec", "train", "--data", str(audio_dir), "--out", str(out), "--steps", "2",
                 *TINY, "--set", "model.convnext_dim=16", "--no-progress"]) == 0  # fmt: skip
    assert main(["codec", "export", f"bandmate:{out}", str(tmp_path / "half"), "--half"]) == 0
    assert not (tmp_path / "half/train").exists()
    full = load_file(str(out / "model.safetensors"))
    half = load_file(str(tmp_path / "half/model.safetensors"))
    assert {k: v.shape for k, v in half.items()} == {k: v.shape for k, v in full.items()}
    assert all(v.dtype == torch.float32 for k, v in half.items() if k.startswith("quantizer."))
    assert sum(v.dtype == torch.float16 for v in half.values()) > len(half) // 2
    config = json.loads((tmp_path / "half/config.json").read_text())
    assert config["train"]["steps"] == 2
    wav = torch.from_numpy(make_plucks(0.5, 24_000, 3))[None]
    codes = [codec_from_checkpoint(str(d)).encode(wav) for d in (out, tmp_path / "half")]
    assert (codes[0] == codes[1]).float().mean() > 0.9

    assert main(["codec", "export", str(out), str(out)]) == 2
    assert (out / "train/state.json").is_file()


def test_codec_training_refuses_a_reserved_timbre_and_writes_nothing(
    audio_dir: Path, tmp_path: Path, capsys
) -> None:
    """Audio rendered with a reserved test timbre never trains the codec either."""
    stems = [{"is_drum": True, "soundfont": {"file": "Black_Pearl_4_LV2.sf2", "sha256": ""}}]
    manifest = {"generator": "bandmate synth", "songs": [{"song_id": "s", "stems": stems}]}
    (audio_dir / "manifest.json").write_text(json.dumps(manifest))
    out = tmp_path / "codec"
    code = main(["codec", "train", "--data", str(audio_dir), "--out", str(out), "--steps", "2",
                 "--no-progress", *TINY])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "Black_Pearl_4_LV2.sf2, a reserved timbre" in err[0] and "codec train" in err[0]
    assert not out.exists()
