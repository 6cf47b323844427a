"""The spectral features' filter banks: librosa's and scipy's, without importing them."""

import librosa
import numpy as np
import pytest
import scipy.fft

from bandmate.tokens.features import SAMPLE_RATE_HZ, chroma_filters, dct_matrix, mel_filters


@pytest.mark.parametrize(("n_fft", "n_mels", "fmin_hz"), [(1024, 64, 30.0), (4096, 128, 0.0)])
def test_mel_filters_are_librosas(n_fft: int, n_mels: int, fmin_hz: float):
    ours = mel_filters(SAMPLE_RATE_HZ, n_fft, n_mels, fmin_hz)
    theirs = librosa.filters.mel(
        sr=SAMPLE_RATE_HZ, n_fft=n_fft, n_mels=n_mels, fmin=fmin_hz, dtype=np.float64
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("n_fft", [1024, 4096])
def test_chroma_filters_are_librosas(n_fft: int):
    ours = chroma_filters(SAMPLE_RATE_HZ, n_fft)
    theirs = librosa.filters.chroma(sr=SAMPLE_RATE_HZ, n_fft=n_fft, dtype=np.float64)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)


def test_dct_matrix_is_scipys_orthonormal_dct2():
    expected = scipy.fft.dct(np.eye(64), type=2, norm="ortho", axis=0)
    np.testing.assert_allclose(dct_matrix(64), expected, atol=1e-12)
