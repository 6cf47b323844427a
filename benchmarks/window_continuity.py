"""Continuity across window borders: forced continuation against independent windows.

Long inputs are generated in overlapping windows (bandmate.generate.windows). bandmate
forces the first `overlap` seconds of each window to the previous window's last tokens.
This measures what that buys: the log-mel distance between the previous window's audio
and the next window's audio over their shared seconds (before the cross-fade), with
forcing and with every window sampled on its own. 0 means the two agree exactly.

    PYTHONPATH=src python benchmarks/window_continuity.py --checkpoint runs/demo/train \\
        --input runs/demo/data-held-out/Audio/SONG/SONG_STEMS/SONG_STEM_02.wav
"""

from __future__ import annotations

import argparse
import json

import librosa
import numpy as np
import torch

from bandmate.data.audio import load_mono
from bandmate.generate.accompanist import Accompanist, GenerateConfig
from bandmate.generate.decode import forced_prefix
from bandmate.generate.windows import cut, window_start_seconds


def log_mel(wav: np.ndarray, rate: int) -> np.ndarray:
    mel = librosa.feature.melspectrogram(y=wav, sr=rate, n_fft=1024, hop_length=256, n_mels=64)
    return np.log10(mel + 1e-5)


def border_distances(
    acc: Accompanist, wav: np.ndarray, rate: int, overlap: float, forced: bool, seed: int
) -> list[float]:
    """Log-mel distance over each window border (previous tail vs next head)."""
    config = GenerateConfig(seed=seed, overlap_seconds=overlap)
    generator = torch.Generator().manual_seed(seed)
    starts = window_start_seconds(wav.size / rate, acc.clip_seconds, overlap)
    codec_rate, previous, previous_audio = acc.codec.sample_rate_hz, None, None
    n_sem, n_ac = round(overlap * 50), round(overlap * acc.codec.frame_rate_hz)
    distances = []
    for start in starts:
        ids = acc._semantic_ids(cut(wav, round(start * rate), round(acc.clip_seconds * rate)))
        prefix = None
        if forced and previous is not None:
            sem, ac = acc.layout.split_target(previous)
            prefix = forced_prefix(acc.layout, sem[:, -n_sem:], ac[:, :, -n_ac:])
        previous = acc._decode_window(ids, prefix, config, generator)
        audio = acc.codec.decode(torch.from_numpy(acc.layout.split_target(previous)[1]))[0]
        audio = audio.numpy()
        if previous_audio is not None:
            span = round(overlap * codec_rate)
            tail, head = previous_audio[-span:], audio[:span]
            distances.append(
                float(np.mean(np.abs(log_mel(tail, codec_rate) - log_mel(head, codec_rate))))
            )
        previous_audio = audio
    return distances


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--input", required=True, help="an input recording (several windows long)")
    parser.add_argument("--overlap", type=float, default=1.0)
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    acc = Accompanist.from_checkpoint(args.checkpoint, "cpu")
    wav = load_mono(args.input, acc.semantic.sample_rate_hz)
    result = {
        "checkpoint": args.checkpoint,
        "input_seconds": wav.size / acc.semantic.sample_rate_hz,
        "clip_seconds": acc.clip_seconds,
        "overlap_seconds": args.overlap,
    }
    for name, forced in (("forced_continuation", True), ("independent_windows", False)):
        values = [
            d
            for seed in range(args.seeds)
            for d in border_distances(
                acc, wav, acc.semantic.sample_rate_hz, args.overlap, forced, seed
            )
        ]
        result[f"{name}_log_mel_distance"] = float(np.mean(values))
        result[f"{name}_borders"] = len(values)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
