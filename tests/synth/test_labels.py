"""Every instrument label synth can write is in the MedleyDB taxonomy."""

from __future__ import annotations

import numpy as np
import yaml

from bandmate.data.roles import gm_label
from bandmate.synth.band import PAD_PROGRAMS, PERCUSSION, SINGER_RANGE, lead_label
from bandmate.synth.corpus import CHORALE_ENSEMBLES, FOLK_LEADS
from bandmate.synth.styles import STYLES
from tests.conftest import FIXTURES

TAXONOMY = FIXTURES / "medleydb-taxonomy.yaml"


def _leaves(node: object) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(_leaves(v) for v in node.values()))
    if isinstance(node, list):
        return {str(item) for item in node}
    return {str(node)}


def test_labels_are_medleydb_labels() -> None:
    known = _leaves(yaml.safe_load(TAXONOMY.read_text()))
    programs = {p for s in STYLES for p in (*s.bass_programs, *s.chord_programs)}
    programs |= {p for ensemble in CHORALE_ENSEMBLES.values() for p in ensemble}
    programs |= {*PAD_PROGRAMS, *FOLK_LEADS, 32, 43, 52, 53}
    labels = {gm_label(p) for p in programs} | {"drum set", "vocalists"}
    labels |= {label for _, label, _ in PERCUSSION} | set(SINGER_RANGE)
    rng = np.random.default_rng(0)
    labels |= {lead_label(p, rng) for s in STYLES for p in s.lead_programs for _ in range(8)}
    assert labels - known == set()
