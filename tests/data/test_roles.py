import pytest
import yaml

from bandmate.data.roles import (
    GM_FAMILY_LABELS,
    GM_PROGRAM_LABELS,
    ROLE_OF_LABEL,
    Role,
    gm_label,
    role_of,
)
from tests.conftest import FIXTURES


def taxonomy_labels() -> set[str]:
    """Every leaf label of the real MedleyDB taxonomy."""
    labels: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            labels.update(str(item) for item in node)

    walk(yaml.safe_load((FIXTURES / "medleydb-taxonomy.yaml").read_text()))
    return labels


def test_role_table_uses_only_taxonomy_labels():
    assert set(ROLE_OF_LABEL) <= taxonomy_labels()


def test_gm_tables_use_only_taxonomy_labels():
    assert set(GM_FAMILY_LABELS) | set(GM_PROGRAM_LABELS.values()) <= taxonomy_labels()


def test_every_voice_is_vocals_and_kit_is_drums():
    taxonomy = yaml.safe_load((FIXTURES / "medleydb-taxonomy.yaml").read_text())
    assert all(role_of(label) == Role.VOCALS for label in taxonomy["voices"])
    assert role_of("drum set") == Role.DRUMS
    assert role_of("electric bass") == Role.BASS
    assert role_of("tabla") == Role.OTHER
    assert role_of("Main System") == Role.UNKNOWN


def test_every_fixture_label_has_a_role():
    labels = taxonomy_labels()
    assert {role_of(label) for label in labels} == set(Role)


@pytest.mark.parametrize(
    ("program", "label"),
    [
        (0, "piano"),
        (33, "electric bass"),
        (32, "double bass"),
        (128, "drum set"),
        (73, "flute"),
        (30, "distorted electric guitar"),
    ],
)
def test_gm_label(program: int, label: str):
    assert gm_label(program) == label


def test_gm_label_rejects_out_of_range():
    with pytest.raises(ValueError):
        gm_label(200)


@pytest.mark.parametrize(
    ("program", "label"),
    [(109, "bagpipe"), (110, "violin"), (113, "auxiliary percussion"), (14, "chimes")],
)
def test_gm_programs_by_their_general_midi_names(program: int, label: str):
    # 0-based GM: 109 Bag pipe, 110 Fiddle, 113 Agogo, 14 Tubular Bells.
    assert gm_label(program) == label
