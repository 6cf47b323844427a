from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import SeamlessM4TFeatureExtractor

from bandmate.errors import BandmateError, DataError
from bandmate.tokens.features import SpectralFeatures, W2vBertFeatures, build_features
from bandmate.tokens.semantic import fit_semantic, load_semantic
from tests.conftest import tone
from tests.tokens.conftest import tiny_w2v_bert


def test_spectral_features_are_50_hz():
    features = SpectralFeatures()
    assert features(0.1 * torch.randn(2, 160_000)).shape == (2, 500, 32)
    assert features(0.1 * torch.randn(1, 16_000 * 3 + 100)).shape == (1, 150, 32)
    assert features(torch.zeros(1, 100)).shape == (1, 0, 32)


def test_spectral_chroma_follows_pitch():
    a4, e5 = (torch.from_numpy(tone(1.0, 16_000, f)) for f in (440.0, 659.26))
    chroma = SpectralFeatures()(torch.stack([a4, e5]))[:, 10:40, 20:].mean(dim=1)  # [2, 12]
    # librosa's chroma starts at C: A = 9, E = 4.
    assert chroma.argmax(dim=1).tolist() == [9, 4]


@pytest.mark.parametrize(("freq", "pitch_class"), [(41.2, 4), (55.0, 9), (65.4, 0), (73.4, 2)])
def test_spectral_chroma_at_4096_points_resolves_bass_notes(freq, pitch_class):
    """E1, A1, C2, D2 as pure tones: 1024-point bins (15.6 Hz) name the wrong pitch class."""
    wav = torch.from_numpy(tone(1.0, 16_000, freq))[None]

    def named(features: SpectralFeatures) -> int:
        return int(features(wav)[0, 10:40, -12:].mean(dim=0).argmax())

    assert named(SpectralFeatures(chroma_fft=4096)) == pitch_class
    assert named(SpectralFeatures()) != pitch_class


# A bassoon-like low note: the third harmonic (the fifth above the octave) is the loudest.
REED_HARMONICS = (0.25, 0.5, 1.0, 0.6, 0.5, 0.3, 0.2, 0.1)


@pytest.mark.parametrize(("freq", "pitch_class"), [(65.4, 0), (73.4, 2), (87.3, 5), (98.0, 7)])
def test_salience_chroma_names_the_fundamental_of_a_reed_note(freq, pitch_class):
    """C2, D2, F2, G2 with a dominant third harmonic: the spectrum's chroma names the fifth
    (the harmonic's class), the harmonic salience names the note."""
    wav = sum(a * tone(1.0, 16_000, freq * (h + 1)) for h, a in enumerate(REED_HARMONICS))
    wav = torch.from_numpy(wav)[None]

    def named(features: SpectralFeatures) -> int:
        return int(features(wav)[0, 10:40, -12:].mean(dim=0).argmax())

    assert named(SpectralFeatures(chroma_fft=4096, chroma="salience")) == pitch_class
    assert named(SpectralFeatures(chroma_fft=4096)) == (pitch_class + 7) % 12


def test_salience_chroma_keeps_pure_tones():
    a4, e5 = (torch.from_numpy(tone(1.0, 16_000, f)) for f in (440.0, 659.26))
    features = SpectralFeatures(n_mfcc=4, chroma_fft=4096, chroma="salience")
    chroma = features(torch.stack([a4, e5]))[:, 10:40, 4:].mean(dim=1)  # [2, 12]
    assert chroma.argmax(dim=1).tolist() == [9, 4]


def test_spectral_settings_round_trip_and_old_states_keep_defaults():
    features = SpectralFeatures(n_mfcc=8, chroma_fft=4096)
    assert features(0.1 * torch.randn(1, 16_000)).shape == (1, 50, 20)
    rebuilt = build_features(features.describe())
    assert (rebuilt.n_mfcc, rebuilt.chroma_fft, rebuilt.dim) == (8, 4096, 20)
    old = build_features({"kind": "spectral", "n_fft": 1024, "n_mels": 64, "dim": 32})
    assert (old.n_mfcc, old.chroma_fft, old.dim) == (20, 1024, 32)
    assert old.chroma_kind == "stft"
    salient = build_features(SpectralFeatures(4, 4096, "salience").describe())
    assert (salient.n_mfcc, salient.chroma_kind, salient.dim) == (4, "salience", 16)
    with pytest.raises(BandmateError, match="chroma_fft 3000"):
        SpectralFeatures(chroma_fft=3000)
    with pytest.raises(BandmateError, match="chroma 'cqt'"):
        SpectralFeatures(chroma="cqt")


def test_w2v_bert_layer_7_gives_500_frames_for_10_s():
    features = W2vBertFeatures(tiny_w2v_bert(), SeamlessM4TFeatureExtractor(), 7, "tiny")
    out = features(0.1 * torch.randn(2, 160_000))
    assert out.shape == (2, 500, 16)
    with pytest.raises(BandmateError, match="need 9"):
        W2vBertFeatures(tiny_w2v_bert(), SeamlessM4TFeatureExtractor(), 9, "tiny")


def test_w2v_bert_loads_only_the_layers_it_needs(w2v_bert_dir: Path):
    features = W2vBertFeatures.load(str(w2v_bert_dir), layer=7)
    assert len(features.model.encoder.layers) == 7
    full = tiny_w2v_bert(num_layers=8)  # the saved model, all layers
    wav = 0.1 * torch.randn(1, 32_000)
    inputs = SeamlessM4TFeatureExtractor()(
        list(torch.nn.functional.pad(wav, (120, 120)).numpy()),
        sampling_rate=16_000,
        return_tensors="pt",
    )
    with torch.no_grad():
        expected = full(**inputs, output_hidden_states=True).hidden_states[7][:, :100]
    torch.testing.assert_close(features(wav), expected, rtol=1e-4, atol=1e-4)


def clips(n: int, seconds: float = 1.0) -> list[torch.Tensor]:
    rng = np.random.default_rng(0)
    return [torch.from_numpy(tone(seconds, 16_000, float(rng.uniform(80, 800)))) for _ in range(n)]


def test_fitted_tokenizer_round_trips_through_its_folder(tmp_path: Path):
    tokenizer = fit_semantic(SpectralFeatures(), clips(12), num_clusters=16, seed=0)
    wav = torch.stack(clips(3))
    ids = tokenizer.encode(wav)
    assert ids.shape == (3, 50) and int(ids.min()) >= 0 and int(ids.max()) < 16
    assert tokenizer.spec == "spectral/kmeans16" and tokenizer.vocab_size == 16
    tokenizer.save(tmp_path / "semantic")
    assert not list((tmp_path / "semantic").glob("*.pkl"))
    loaded = load_semantic(tmp_path / "semantic")
    assert torch.equal(loaded.encode(wav), ids) and loaded.spec == tokenizer.spec


def test_fitting_is_deterministic():
    ids = [
        fit_semantic(SpectralFeatures(), clips(6), 8, seed=3).encode(torch.stack(clips(2)))
        for _ in range(2)
    ]
    assert torch.equal(ids[0], ids[1])


def test_w2v_bert_tokenizer_gives_500_ids_for_10_s(tmp_path: Path, w2v_bert_dir: Path):
    features = build_features({"kind": "w2v-bert", "model": str(w2v_bert_dir), "layer": 7})
    tokenizer = fit_semantic(features, clips(2, seconds=10.0), num_clusters=32)
    ids = tokenizer.encode(0.1 * torch.randn(1, 160_000))
    assert ids.shape == (1, 500) and int(ids.max()) < 32
    tokenizer.save(tmp_path)
    assert load_semantic(tmp_path).spec == f"w2v-bert:{w2v_bert_dir}#layer7/kmeans32"


def test_missing_state_is_a_data_error(tmp_path: Path):
    with pytest.raises(DataError, match="no semantic tokenizer state"):
        load_semantic(tmp_path)


def test_missing_w2v_bert_model_is_a_user_error(tmp_path: Path):
    with pytest.raises(BandmateError, match="cannot load"):
        build_features({"kind": "w2v-bert", "model": str(tmp_path / "absent"), "layer": 7})
    with pytest.raises(BandmateError, match="unknown semantic features"):
        build_features({"kind": "mert"})
