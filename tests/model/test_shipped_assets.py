"""The models that ship in the package: present, small, loadable, and what they claim."""

import json

import pytest

from bandmate.checkpoint import load_checkpoint
from bandmate.checkpoint_files import DEFAULT_PRESET, shipped_model, shipped_presets
from bandmate.data.pairs import PRESETS
from bandmate.generate.defaults import DEFAULT_CANDIDATES

# bandmate:PRESET is the preset's better model on the panel (issue #36); the other one
# stays reachable as PRESET-codec (codec tokens) or PRESET-events (note events).
SHIPPED = ("bass-to-drums", "drums-to-bass", "bass-to-instrumental")  # issue #9's three
EVENTS = ("bass-to-drums", "drums-to-bass", "bass-to-instrumental-events", "vocals-to-instrumental")
CODEC = ("bass-to-drums-codec", "drums-to-bass-codec", "bass-to-instrumental")
# (guidance weight, candidates drawn at a time) that generate uses by default: what the
# README's demo table and the model card were measured with.
SAMPLING = {
    "bass-to-drums-codec": (12.0, 8),
    "drums-to-bass-codec": (12.0, 8),
    "bass-to-instrumental": (8.0, 16),
    "bass-to-instrumental-events": (0.0, 4),
    "bass-to-drums": (0.0, 4),
    "drums-to-bass": (0.0, 4),
    "vocals-to-instrumental": (0.0, 4),
}


def test_the_three_presets_ship_and_the_default_is_one_of_them():
    assert set(SHIPPED) | set(EVENTS) | set(CODEC) == set(shipped_presets())
    assert DEFAULT_PRESET in SHIPPED


@pytest.mark.parametrize("preset", EVENTS + CODEC)
def test_shipped_model_is_small_and_trained_for_its_preset(preset: str):
    path = shipped_model(f"bandmate:{preset}")
    assert (path / "model.safetensors").stat().st_size <= 50 * 2**20
    assert not (path / "optimizer.pt").exists()
    manifest = json.loads((path / "tokens.json").read_text())
    spec = PRESETS[preset.removesuffix("-codec").removesuffix("-events")]
    assert (manifest["pair"]["input"], manifest["pair"]["target"]) == (spec.input, spec.target)
    assert manifest["codec"]["spec"] == "bandmate:default"  # shipped too: no download
    model, layout, meta = load_checkpoint(path)
    assert model.config.vocab_size == layout.vocab_size and meta["tokenizer_dir"] is not None
    assert (layout.kind == "events") == (preset in EVENTS)
    card = "EVENTS_MODEL_CARD.md" if layout.kind == "events" else "MODEL_CARD.md"
    assert (path.parent / card).is_file()


@pytest.mark.parametrize("preset", EVENTS + CODEC)
def test_shipped_model_carries_the_sampling_defaults_its_figures_were_measured_with(
    preset: str,
):
    meta = json.loads((shipped_model(f"bandmate:{preset}") / "model.json").read_text())["meta"]
    guidance = meta.get("guidance", 0.0)
    assert (guidance, meta.get("candidates", DEFAULT_CANDIDATES)) == SAMPLING[preset]
