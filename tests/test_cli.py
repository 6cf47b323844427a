import subprocess
import sys
from dataclasses import replace

import pytest

from bandmate.cli import COMMANDS, build_parser, main
from bandmate.demo import DemoConfig, generate_settings
from bandmate.errors import BandmateError, ConfigError
from bandmate.generate.accompanist import GenerateConfig
from bandmate.generate.cli import generate_config
from bandmate.generate.defaults import DEFAULT_BATCHES, DEFAULT_CANDIDATES


def test_building_the_parser_imports_no_torch():
    code = (
        "import sys, bandmate.cli; bandmate.cli.build_parser(); "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_a_command_imports_only_its_own_module():
    code = (
        "import sys, bandmate.cli; bandmate.cli.build_parser(bandmate.cli.command_named("
        "['-v', 'generate', 'x.wav'])); print('bandmate.synth.cli' in sys.modules, "
        "'bandmate.generate.cli' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_the_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    listed = capsys.readouterr().out
    words = " ".join(listed.split())  # argparse wraps long help lines
    assert all(command.name in listed and command.help in words for command in COMMANDS)


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
def test_every_command_documents_its_options(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert command in capsys.readouterr().out


def test_python_dash_m_runs_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "bandmate", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("bandmate ")


def test_generate_and_evaluate_leave_candidates_to_the_checkpoint():
    # generate's default: the checkpoint's own number of candidates (else 8), up to 4
    # batches. evaluate samples the same way, so that it can report the first candidate (a
    # single try, its headline) beside what generate keeps.
    parser = build_parser()

    def config(*args: str) -> GenerateConfig:
        return generate_config(parser.parse_args(list(args)))

    generate = config("generate", "in.wav")
    assert generate.candidates is None and generate.max_candidates is None
    assert generate.candidate_batches == DEFAULT_BATCHES == 4
    assert replace(generate, candidates=DEFAULT_CANDIDATES).candidate_limit == 32
    assert replace(generate, candidates=16).candidate_limit == 64
    # The limit follows --candidates unless given.
    assert config("generate", "in.wav", "--candidates", "16").candidate_limit == 64
    assert config("generate", "in.wav", "--max-candidates", "8").candidate_limit == 8
    evaluate = config("evaluate", "--candidates", "4")
    assert evaluate.candidates == 4 and evaluate.candidate_limit == 16
    default = config("evaluate")
    assert default.candidates is None and default.candidate_batches == DEFAULT_BATCHES
    assert config("evaluate", "--candidates", "1", "--max-candidates", "1").candidate_limit == 1
    with pytest.raises(BandmateError, match="--max-candidates"):
        config("generate", "in.wav", "--candidates", "8", "--max-candidates", "4")
    with pytest.raises(BandmateError, match="--candidates"):
        config("generate", "in.wav", "--candidates", "0")
    # The demo samples as generate does, and both 1 are single tries.
    demo = generate_settings(DemoConfig())
    assert (demo.candidates, demo.max_candidates, demo.candidate_batches) == (None, None, 4)
    assert generate_settings(DemoConfig(candidates=16)).candidate_limit == 64
    assert generate_settings(DemoConfig(candidates=1, max_candidates=1)).candidate_limit == 1
    with pytest.raises(ConfigError, match="max_candidates"):
        generate_settings(DemoConfig(candidates=8, max_candidates=4))
