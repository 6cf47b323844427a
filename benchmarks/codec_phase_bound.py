"""How much of the codec quality bar the magnitude spectrum alone allows: the held-out
clips of codec_quality.py resynthesized through the "stft" codec's own frame STFT
(FFT 1280, hop 320) with their TRUE magnitudes and three phases:

    true    the original phase (checks that STFT -> iSTFT is lossless)
    centre  each bin's phase advancing at its centre frequency (the integrated-phase
            decoder's starting point, before it learns any correction)
    random  uniform random phase per bin and frame

If a trained codec's chroma falls far below `random`, its magnitudes lose the pitch
(the codes or the decoder), not its phase.

With --codec SPEC (an "stft" codec) it also swaps the two halves between the codec's
reconstruction and the truth, to say which half loses the pitch:

    codec                   the codec's own reconstruction
    codec_mag+true_phase    the codec's decoded magnitudes with the original phase
    true_mag+codec_phase    the original magnitudes with the codec's decoded phase

    PYTHONPATH=src python benchmarks/codec_phase_bound.py --data HELDOUT_DIR [--clips 32]
        [--codec bandmate:default]

Prints one JSON object (metric means per phase). Same clips and metrics as
codec_quality.py for the same --clips/--clip-seconds/--seed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from codec_quality import metrics, pick_clips

from bandmate.codec.neural import NeuralCodec, codec_from_checkpoint
from bandmate.codec.vocos import FrameISTFT, FrameSTFT

HOP = 320


def resynthesize(wav: np.ndarray, mode: str, rng: torch.Generator) -> np.ndarray:
    """wav [S] -> [S - S % hop] with the true magnitude and the `mode` phase."""
    n = len(wav) - len(wav) % HOP
    spec = FrameSTFT(HOP)(torch.from_numpy(wav[:n]).float()[None, None])  # [1, bins, F]
    magnitude = spec.abs()
    if mode == "true":
        phase = spec.angle()
    elif mode == "centre":
        bins, frames = spec.shape[1], spec.shape[2]
        advance = torch.arange(bins)[:, None] * (2 * math.pi * HOP / (4 * HOP))
        phase = (advance * torch.arange(frames)[None]).remainder(2 * math.pi)[None]
    else:
        phase = torch.rand(magnitude.shape, generator=rng) * 2 * math.pi
    return FrameISTFT(HOP)(torch.polar(magnitude, phase))[0].numpy()


def swapped(wav: np.ndarray, codec: NeuralCodec) -> dict[str, np.ndarray]:
    """wav [S] -> the `codec*` variants above, each [S - S % hop]."""
    model = codec.model
    n = len(wav) - len(wav) % HOP
    x = torch.from_numpy(wav[:n]).float()[None]
    with torch.inference_mode():
        log_mag, angles = model.decoder.predict(model.quantizer.decode(codec.encode(x)))
        magnitude, phase = torch.exp(log_mag.clamp(max=8.0)), model.decoder.phase(angles)
        true = FrameSTFT(HOP)(x[:, None])
        istft = FrameISTFT(HOP)
        pairs = {
            "codec": (magnitude, phase),
            "codec_mag+true_phase": (magnitude, true.angle()),
            "true_mag+codec_phase": (true.abs(), phase),
        }
        return {k: istft(torch.polar(m, p))[0].numpy() for k, (m, p) in pairs.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="held-out dataset root or audio folder")
    parser.add_argument("--clips", type=int, default=32, help="number of clips")
    parser.add_argument("--clip-seconds", type=float, default=5.0, help="clip length")
    parser.add_argument("--seed", type=int, default=0, help="clip selection seed")
    parser.add_argument("--codec", help="an stft codec to take apart (e.g. bandmate:default)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    clips = pick_clips(Path(args.data), args.clips, args.clip_seconds, args.seed)
    rng = torch.Generator().manual_seed(0)
    result: dict[str, object] = {"clips": len(clips), "fft": 4 * HOP, "hop": HOP}
    for mode in ("true", "centre", "random"):
        rows = []
        for _, wav in clips:
            out = resynthesize(wav, mode, rng)
            rows.append(metrics(wav[: len(out)], out))
        result[mode] = {k: round(float(np.mean([r[k] for r in rows])), 4) for k in rows[0]}
    if args.codec:
        codec = codec_from_checkpoint(args.codec)
        by_variant: dict[str, list[dict[str, float]]] = {}
        for _, wav in clips:
            for name, out in swapped(wav, codec).items():
                by_variant.setdefault(name, []).append(metrics(wav[: len(out)], out))
        for name, rows in by_variant.items():
            result[name] = {k: round(float(np.mean([r[k] for r in rows])), 4) for k in rows[0]}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
