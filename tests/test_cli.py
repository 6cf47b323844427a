import subprocess
import sys

import pytest

from bandmate.cli import COMMANDS, main


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
