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


def _tone(hz: float, seconds: float = 1.0) -> torch.Tensor:
    """A harmonic tone (three partials) [1, S] at 24 kHz."""
    t = torch.arange(round(24_000 * seconds)) / 24_000
    return sum(0.2 / k * torch.sin(2 * torch.pi * k * hz * t + k) for k in (1, 2, 3))[None]


def test_phase_loss_ignores_level_and_polarity() -> None:
    from bandmate.codec.losses import PhaseDerivativeLoss

    loss = PhaseDerivativeLoss(hop=320)
    a2 = _tone(110)
    # float32 rounding in the quietest bins leaves ~1e-4 (measured 1.3e-4)
    assert float(loss(a2, a2)) < 1e-3
    assert float(loss(0.3 * a2, a2)) < 1e-3
    assert float(loss(-a2, a2)) < 1e-3  # one global offset: inaudible


def test_phase_loss_sees_what_the_magnitudes_keep() -> None:
    """The true magnitudes with random phase lose the pitch the 4096-point chroma sees;
    the phase loss says so, while a magnitude loss at the same frame STFT cannot."""
    from bandmate.codec.losses import PhaseDerivativeLoss
    from bandmate.codec.vocos import FrameISTFT, FrameSTFT

    a2 = _tone(110)
    spec = FrameSTFT(320)(a2[:, None])
    noise = torch.rand(spec.shape, generator=torch.Generator().manual_seed(0))
    scrambled = FrameISTFT(320)(torch.polar(spec.abs(), 2 * torch.pi * noise))
    loss = PhaseDerivativeLoss(hop=320)
    assert float(loss(scrambled, a2[:, : scrambled.shape[-1]])) > 0.3
    semitone = float(loss(_tone(116.5), a2))
    assert 0.01 < semitone < float(loss(scrambled, a2[:, : scrambled.shape[-1]]))


def test_phase_loss_has_finite_gradients() -> None:
    from bandmate.codec.losses import PhaseDerivativeLoss

    recon = (_tone(112) + 1e-3 * torch.randn(1, 24_000)).requires_grad_()
    PhaseDerivativeLoss(hop=320)(recon, _tone(110)).backward()
    assert recon.grad is not None and torch.isfinite(recon.grad).all()
    assert float(recon.grad.abs().sum()) > 0
