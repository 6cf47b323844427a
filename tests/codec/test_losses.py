from __future__ import annotations

import torch

from bandmate.codec.losses import MultiResolutionMelLoss, mel_filterbank


def test_filterbank_rows_are_normalised_and_ordered() -> None:
    filters = mel_filterbank(512, 40, 24_000)
    assert filters.shape == (40, 257)
    torch.testing.assert_close(filters.sum(1), torch.ones(40))
    peaks = filters.argmax(1)
    assert (peaks[1:] >= peaks[:-1]).all()


def test_mel_loss_is_zero_for_identical_and_grows_with_noise() -> None:
    loss = MultiResolutionMelLoss(24_000)
    t = torch.arange(4800) / 24_000
    clean = 0.3 * torch.sin(2 * torch.pi * 440 * t)[None]
    assert float(loss(clean, clean)) == 0.0
    small = float(loss(clean + 0.001 * torch.randn_like(clean), clean))
    large = float(loss(clean + 0.1 * torch.randn_like(clean), clean))
    assert 0 < small < large


def test_stft_loss_weighs_a_small_pitch_shift_more_than_mel_does() -> None:
    from bandmate.codec.losses import MultiResolutionSTFTLoss

    t = torch.arange(24_000) / 24_000
    a4 = 0.3 * torch.sin(2 * torch.pi * 440 * t)[None]
    sharp = 0.3 * torch.sin(2 * torch.pi * 450 * t)[None]
    assert float(MultiResolutionSTFTLoss()(a4, a4)) == 0.0
    stft = float(MultiResolutionSTFTLoss()(sharp, a4))
    mel = float(MultiResolutionMelLoss(24_000)(sharp, a4))
    assert stft > 1.5 * mel > 0  # measured 0.71 vs 0.39 for 440 -> 450 Hz


def test_log_frequency_bands_are_normalised_distinct_and_even_per_octave() -> None:
    from bandmate.codec.losses import log_frequency_filterbank

    filters = log_frequency_filterbank(4096, 24_000, bins_per_octave=24)
    torch.testing.assert_close(filters.sum(1), torch.ones(filters.shape[0]))
    assert (filters[1:] != filters[:-1]).any(1).all()  # bands merged where the FFT is coarse
    centre_hz = filters.argmax(1).float() * 24_000 / 4096
    # From 1 kHz up, 5.9 Hz bins separate every band: 24 to the octave.
    assert int(((centre_hz >= 1000) & (centre_hz < 2000)).sum()) in (23, 24, 25)


def test_log_frequency_loss_weighs_a_wrong_bass_note_more_than_mel_and_stft() -> None:
    from bandmate.codec.losses import LogFrequencyLoss, MultiResolutionSTFTLoss

    t = torch.arange(24_000) / 24_000
    a2 = 0.3 * torch.sin(2 * torch.pi * 110 * t)[None]
    b_flat = 0.3 * torch.sin(2 * torch.pi * 116.5 * t)[None]  # a semitone up
    assert float(LogFrequencyLoss(24_000)(a2, a2)) == 0.0
    logf = float(LogFrequencyLoss(24_000)(b_flat, a2))
    stft = float(MultiResolutionSTFTLoss()(b_flat, a2))
    mel = float(MultiResolutionMelLoss(24_000)(b_flat, a2))
    assert logf > 5 * max(stft, mel) > 0  # measured 7.1 vs 0.54 (STFT) and 0.57 (mel)
