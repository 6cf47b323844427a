import subprocess
import sys

import pytest

from bandmate.cli import COMMANDS, build_parser, main
from bandmate.demo import DemoConfig, generate_settings
from bandmate.errors import BandmateError
from bandmate.generate.accompanist import GenerateConfig
from bandmate.generate.cli import DEFAULT_CANDIDATES, DEFAULT_MAX_CANDIDATES, generate_config


def test_building_the_parser_imports_no_torch():
    code = (
        "import sys, bandmate.cli; bandmate.cli.build_parser(); "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


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


def test_generate_keeps_the_best_of_eight_to_32_by_default_and_evaluate_single_tries():
    # generate's default is what `make demo` measures; evaluate's stays the thesis's
    # single try, so the model card's commands keep their meaning.
    parser = build_parser()

    def config(*args: str) -> GenerateConfig:
        return generate_config(parser.parse_args(list(args)))

    generate = config("generate", "in.wav")
    assert generate.candidates == DEFAULT_CANDIDATES == 8
    assert generate.candidate_limit == DEFAULT_MAX_CANDIDATES == 32
    # The limit follows --candidates unless given; evaluate draws no more by default.
    assert config("generate", "in.wav", "--candidates", "16").candidate_limit == 64
    assert config("generate", "in.wav", "--max-candidates", "8").candidate_limit == 8
    evaluate = config("evaluate", "--candidates", "4")
    assert evaluate.candidates == evaluate.candidate_limit == 4
    assert config("evaluate").candidate_limit == 1
    with pytest.raises(BandmateError, match="--max-candidates"):
        config("generate", "in.wav", "--max-candidates", "4")
    # The demo samples as generate does, and both 1 are single tries.
    demo = generate_settings(DemoConfig())
    assert (demo.candidates, demo.candidate_limit) == (DEFAULT_CANDIDATES, DEFAULT_MAX_CANDIDATES)
    assert generate_settings(DemoConfig(candidates=16)).candidate_limit == 64
    assert generate_settings(DemoConfig(candidates=1, max_candidates=1)).candidate_limit == 1
