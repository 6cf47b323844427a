"""Bad input never costs data or a traceback (issue #32).

Each case runs through the command line as a user would and must end with exit status 2,
exactly one line on stderr that names the file, flag or key at fault, no traceback (an
exception would escape `main`) and nothing written. Validation comes before any model or
data loads, so the cases are fast; the real tiny checkpoint is still passed, so that the
old code, which validated late, showed each defect as filed.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bandmate.cli import main
from tests.evaluate.test_listen_report import write_fake_report
from tests.tiny import music
from tests.train.conftest import write_tokens

RATE = 16000
ONE_BATCH = ("--candidates", "1", "--max-candidates", "1")


@dataclass(frozen=True)
class Case:
    argv: tuple[str, ...]  # `{name}` fields are paths of the `world` fixture
    message: str  # part of the one line printed, after the same substitution
    absent: tuple[str, ...] = field(default=("{out}", "{run}"))  # nothing written there


def generate(
    source: str, *extra: str, out: str = "{out}", checkpoint: str = "{ckpt}"
) -> tuple[str, ...]:
    return ("generate", source, "--checkpoint", checkpoint, "--out", out, *ONE_BATCH, *extra)


def train(*overrides: str, config: str = "{config}") -> tuple[str, ...]:
    return ("train", config, *(arg for o in overrides for arg in ("--set", o)))


CASES = {
    # 2: non-finite audio is refused for what it is, before the model loads
    "inf-sample": Case(generate("{inputs}/inf.wav"), "inf.wav: 1 sample(s) are not numbers"),
    "nan-samples": Case(generate("{inputs}/nan.wav"), "nan.wav: 3 sample(s) are not numbers"),
    # ... and a folder with one such file writes nothing at all, rather than stopping halfway
    "folder-with-inf": Case(generate("{batch}"), "zz-inf.wav: 1 sample(s) are not numbers"),
    # 5, 7: too short to accompany (librosa warned), or cut short of its header's length
    "short-input": Case(generate("{inputs}/short.wav"), "short.wav: too short (0.05 s"),
    "truncated-wav": Case(
        generate("{inputs}/truncated.wav"), "truncated.wav: truncated audio: its header states 3"
    ),
    # 4: an output that can never be written fails first, not after the whole generation
    "out-is-a-file": Case(generate("{inputs}/good.wav", out="{file}"), "--out {file}: exists"),
    "out-inside-a-file": Case(generate("{inputs}/good.wav", out="{file}/x"), "--out {file}/x"),
    "evaluate-out-is-a-file": Case(
        ("evaluate", "--checkpoint", "{ckpt}", "--data", "{tmp}/data", "--out", "{file}"),
        "--out {file}",
    ),
    "truncated-weights": Case(
        generate("{inputs}/good.wav", checkpoint="{broken}"),
        "model.safetensors: unreadable or truncated weights",
    ),
    # 4, 7: flags out of range name the flag, not SamplingConfig(...)
    "overlap-negative": Case(generate("{inputs}/good.wav", "--overlap", "-1"), "--overlap: "),
    "temperature-nan": Case(
        generate("{inputs}/good.wav", "--temperature", "nan"), "--temperature: "
    ),
    "guidance-inf": Case(generate("{inputs}/good.wav", "--guidance", "inf"), "--guidance: "),
    "guidance-nan": Case(generate("{inputs}/good.wav", "--guidance", "nan"), "--guidance: "),
    # 4, 5, 7: configs are checked as they load, naming the file or the --set
    "yaml-list": Case(train(config="{tmp}/list.yaml"), "list.yaml: expected `key: value`"),
    "lr-negative": Case(train("optim.lr=-1"), "--set optim.lr=-1: must be a number above 0"),
    "batch-size-zero": Case(train("batch_size=0"), "--set batch_size=0: must be"),
    "steps-negative": Case(train("steps=-5"), "--set steps=-5: must be"),
    "unknown-set-key": Case(train("stepz=3"), "--set stepz=3: unknown key"),
    "train-out-is-a-file": Case(train("out={file}"), "out {file}: exists and is not a folder"),
    # 6: a busy port fails before the address is announced and before the database exists
    "listen-busy-port": Case(
        ("listen", "{report}", "--port", "{busy_port}"),
        "--port {busy_port}: cannot listen",
        ("{report}/ratings.sqlite",),
    ),
    # issue #34: synth's timbre modes (a missing kit folder: tests/synth/test_varied.py)
    "synth-unknown-timbres": Case(
        ("synth", "--out", "{out}", "--songs", "1", "--timbres", "default"),
        "--timbres: one of varied, single, reserved, not 'default'",
    ),
    "synth-soundfont-with-varied": Case(
        ("synth", "--out", "{out}", "--songs", "1", "--soundfont", "{file}", "--timbres", "varied"),
        "--soundfont renders every part with one font: it goes with --timbres single",
    ),
}


@pytest.fixture
def world(tmp_path: Path, flatten_checkpoint: Path) -> Iterator[dict[str, str]]:
    """Every input the cases name, in `tmp_path`."""
    inputs, batch = tmp_path / "inputs", tmp_path / "batch"
    inputs.mkdir()
    batch.mkdir()
    loud = music(1.0, RATE)
    sf.write(inputs / "good.wav", loud, RATE)
    for name, bad, where in (("inf", np.inf, [100]), ("nan", np.nan, [100, 101, 102])):
        wav = loud.copy()
        wav[where] = bad
        sf.write(inputs / f"{name}.wav", wav, RATE, subtype="FLOAT")
    sf.write(inputs / "short.wav", loud[: RATE // 20], RATE)
    sf.write(inputs / "long.wav", music(3.0, RATE), RATE)
    whole = (inputs / "long.wav").read_bytes()  # 44-byte header, then 16-bit samples
    (inputs / "truncated.wav").write_bytes(whole[: 44 + 3 * RATE])  # 1.5 s of 3
    shutil.copy(inputs / "good.wav", batch / "good.wav")
    shutil.copy(inputs / "inf.wav", batch / "zz-inf.wav")  # after good.wav in the batch
    broken = tmp_path / "broken"
    shutil.copytree(flatten_checkpoint, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "list.yaml").write_text("- steps: 2\n- batch_size: 4\n")
    tokens = write_tokens(tmp_path / "tokens")
    config = {
        "out": str(tmp_path / "run"),
        "steps": 2,
        "batch_size": 4,
        "eval_every": 2,
        "checkpoint_every": 2,
        "progress": False,
        "data": {"tokens": str(tokens)},
    }
    (tmp_path / "train.yaml").write_text(json.dumps(config))  # JSON is YAML
    with contextlib.closing(socket.socket()) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield {
            "tmp": str(tmp_path),
            "inputs": str(inputs),
            "batch": str(batch),
            "ckpt": str(flatten_checkpoint),
            "broken": str(broken),
            "out": str(tmp_path / "out"),
            "file": str(tmp_path / "afile"),
            "config": str(tmp_path / "train.yaml"),
            "run": str(tmp_path / "run"),
            "report": str(write_fake_report(tmp_path / "report", n_examples=1)),
            "busy_port": str(busy.getsockname()[1]),
        }


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_one_line_and_writes_nothing(
    case: Case,
    world: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    recwarn: pytest.WarningsRecorder,
) -> None:
    argv = [arg.format(**world) for arg in case.argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"bandmate {argv[0]}: error: ")
    assert case.message.format(**world) in lines[0]
    assert not [w for w in recwarn if "n_fft" in str(w.message)]  # librosa's, on short input
    for path in case.absent:
        assert not Path(path.format(**world)).exists(), path


def test_inputs_sharing_a_stem_each_get_their_own_folder(
    flatten_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, out = tmp_path / "takes", tmp_path / "out"
    folder.mkdir()
    sf.write(folder / "take.wav", music(1.0, RATE), RATE)
    sf.write(folder / "take.flac", music(1.2, 22050), 22050)
    sf.write(folder / "solo.wav", music(1.0, RATE), RATE)
    args = ["generate", str(folder), "--checkpoint", str(flatten_checkpoint), "--out", str(out)]
    assert main([*args, *ONE_BATCH]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["solo", "take.flac", "take.wav"]
    for name, seconds in (("take.wav", 1.0), ("take.flac", 1.2), ("solo", 1.0)):
        report = json.loads((out / name / "generation.json").read_text())
        assert Path(report["input"]).name == (name if "." in name else f"{name}.wav")
        assert report["duration_s"] == pytest.approx(seconds)
        assert {p.name for p in (out / name).iterdir()} == {
            "accompaniment.wav",
            "mix.wav",
            "generation.json",
        }
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(Path(p["out"]).name for p in printed) == ["solo", "take.flac", "take.wav"]
    with pytest.raises(SystemExit):  # and --help says where they go
        main(["generate", "--help"])
    assert "OUT/take.wav/" in " ".join(capsys.readouterr().out.split())
