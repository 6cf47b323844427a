"""Quality and speed of the project's codec against Opus at 6 kbps, in one run.

    PYTHONPATH=src python benchmarks/codec_quality.py --data HELDOUT_DIR [--codec bandmate:default]

HELDOUT_DIR is a `bandmate synth` dataset (MedleyDB layout) that the codec never saw,
or any folder of audio files. Clips of --clip-seconds are cut from every stem and mix
(the loudest window of each file), at 24 kHz mono, then
- reconstructed by our codec (3 kbps: 4 codebooks x 10 bits x 75 Hz) and by Opus
  (libopus through libsndfile's Ogg/Opus writer at its lowest bitrate, 6 kbps; the
  measured bitrate is printed), and compared with the original on:
  log-mel distance  mean |ln mel(orig) - ln mel(recon)| (128 bands, 2048-point FFT,
                    hop 256, magnitudes floored at 1e-5; lower is better);
  chroma cosine     mean over non-silent frames of the cosine between chroma vectors;
  onset F1          librosa onsets of the reconstruction vs the original's, 50 ms window;
- and our encode+decode is timed on --threads CPU threads (real-time factor = audio
  seconds / processing seconds; > 1 is faster than real time).

Prints one JSON object; the `bar` field says which of the issue's thresholds hold.
--no-quantizer runs the codec's encoder straight into its decoder instead (a diagnostic
of how much the network keeps before the codes lose more; no bar then).
Needs librosa (benchmark only). Exit status 2 with a one-line message when the data,
the codec or libsndfile's Opus support is missing.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

from bandmate.codec.data import find_audio_files
from bandmate.data.audio import load_mono
from bandmate.errors import BandmateError

RATE = 24_000
OPUS_LEVEL = 1.0  # libsndfile maps compression level 1.0 to libopus's lowest rate, 6 kbps
ONSET_WINDOW_S = 0.05


def labelled_files(root: Path) -> list[tuple[str, Path]]:
    """(label, path) for every stem and mix: role labels from MedleyDB-style metadata
    when the folder has it, else `audio` for every audio file."""
    if (root / "Metadata").is_dir():
        from bandmate.data.medleydb import scan_medleydb

        songs, _ = scan_medleydb(root)
        out: list[tuple[str, Path]] = []
        for song in songs:
            for stem in song.stems:
                if stem.path.is_file():
                    roles = sorted(r.value for r in stem.roles)
                    out.append(("+".join(roles), stem.path))
            if song.mix_path is not None and song.mix_path.is_file():
                out.append(("mix", song.mix_path))
        if out:
            return out
    return [("audio", path) for path in find_audio_files(root)]


def loudest_window(wav: np.ndarray, length: int) -> np.ndarray:
    """The `length`-sample window of highest energy (zero-padded if the file is shorter)."""
    if len(wav) <= length:
        return np.pad(wav, (0, length - len(wav)))
    hop = RATE // 4
    starts = range(0, len(wav) - length + 1, hop)
    best = max(starts, key=lambda s: float(np.sum(np.square(wav[s : s + length]))))
    return wav[best : best + length]


def opus_bytes(wav: np.ndarray) -> io.BytesIO:
    buffer = io.BytesIO()
    sf.write(buffer, wav, RATE, format="OGG", subtype="OPUS", compression_level=OPUS_LEVEL)
    return buffer


def opus_roundtrip(wav: np.ndarray) -> tuple[np.ndarray, float]:
    """Encode/decode with Opus at the lowest bitrate.

    Returns:
        (audio [S], kbps of the Opus stream: file size minus the Ogg headers, which an
        encoding of 20 ms of silence measures).
    """
    buffer = opus_bytes(wav)
    headers = len(opus_bytes(np.zeros(RATE // 50, dtype=np.float32)).getvalue())
    kbps = (len(buffer.getvalue()) - headers) * 8 / (len(wav) / RATE) / 1000
    buffer.seek(0)
    decoded, rate = sf.read(buffer, dtype="float32")
    assert rate == RATE, rate
    return np.pad(decoded, (0, max(len(wav) - len(decoded), 0)))[: len(wav)], kbps


def log_mel(wav: np.ndarray) -> np.ndarray:
    import librosa

    mel = librosa.feature.melspectrogram(
        y=wav, sr=RATE, n_fft=2048, hop_length=256, n_mels=128, power=1.0
    )
    return np.log(np.maximum(mel, 1e-5))


def chroma_cosine(ref: np.ndarray, est: np.ndarray) -> float:
    import librosa

    a = librosa.feature.chroma_stft(y=ref, sr=RATE, n_fft=4096, hop_length=1024)
    b = librosa.feature.chroma_stft(y=est, sr=RATE, n_fft=4096, hop_length=1024)
    energy = librosa.feature.rms(y=ref, frame_length=4096, hop_length=1024)[0]
    frames = energy > max(1e-3, 0.05 * float(energy.max()))
    if not frames.any():
        return 1.0
    a, b = a[:, frames], b[:, frames]
    cos = (a * b).sum(0) / (np.linalg.norm(a, axis=0) * np.linalg.norm(b, axis=0) + 1e-9)
    return float(cos.mean())


def onset_f1(ref: np.ndarray, est: np.ndarray) -> float:
    """F1 of greedy one-to-one onset matching within ONSET_WINDOW_S."""
    import librosa

    on_ref = librosa.onset.onset_detect(y=ref, sr=RATE, units="time")
    on_est = librosa.onset.onset_detect(y=est, sr=RATE, units="time")
    if len(on_ref) == 0 and len(on_est) == 0:
        return 1.0
    used: set[int] = set()
    hits = 0
    for t in on_ref:
        candidates = [
            (abs(t - u), j)
            for j, u in enumerate(on_est)
            if j not in used and abs(t - u) <= ONSET_WINDOW_S
        ]
        if candidates:
            used.add(min(candidates)[1])
            hits += 1
    return 2 * hits / (len(on_ref) + len(on_est))


def metrics(ref: np.ndarray, est: np.ndarray) -> dict[str, float]:
    return {
        "logmel_distance": float(np.mean(np.abs(log_mel(ref) - log_mel(est)))),
        "chroma_cosine": chroma_cosine(ref, est),
        "onset_f1": onset_f1(ref, est),
    }


def pick_clips(root: Path, count: int, seconds: float, seed: int) -> list[tuple[str, np.ndarray]]:
    """`count` clips spread evenly over labels (drums, bass, ..., mix), loudest windows."""
    by_label: dict[str, list[Path]] = defaultdict(list)
    for label, path in labelled_files(root):
        by_label[label].append(path)
    rng = np.random.default_rng(seed)
    for paths in by_label.values():
        rng.shuffle(paths)  # type: ignore[arg-type]
    order = [p for group in round_robin(list(by_label.items())) for p in group]
    clips = []
    for label, path in order[:count]:
        wav = load_mono(path, RATE)
        clips.append((label, loudest_window(wav, round(seconds * RATE)).astype(np.float32)))
    return clips


def round_robin(groups: list[tuple[str, list[Path]]]) -> list[list[tuple[str, Path]]]:
    """Round-robin over labels so every label is represented before any repeats."""
    rounds: list[list[tuple[str, Path]]] = []
    depth = max(len(paths) for _, paths in groups)
    for i in range(depth):
        rounds.append([(label, paths[i]) for label, paths in sorted(groups) if i < len(paths)])
    return rounds


def summarize(rows: list[dict[str, Any]], system: str) -> dict[str, float]:
    keys = ("logmel_distance", "chroma_cosine", "onset_f1")
    return {k: round(float(np.mean([row[system][k] for row in rows])), 4) for k in keys}


@torch.no_grad()
def roundtrip(codec: Any, wav: np.ndarray, skip_quantizer: bool = False) -> np.ndarray:
    """wav [S] through the codec: encode + decode, or with `skip_quantizer` its encoder
    straight into its decoder (how much the network keeps before the codes lose more)."""
    x = torch.from_numpy(wav)[None]
    if not skip_quantizer:
        return codec.decode(codec.encode(x))[0, : len(wav)].numpy()
    model = codec.model
    padded = torch.nn.functional.pad(x, (0, -len(wav) % model.config.hop_length))
    return model(padded, quantize=False)[0][0, : len(wav)].numpy()


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bandmate.codec import codec_from_checkpoint

    torch.set_num_threads(args.threads)
    if "OPUS" not in sf.available_subtypes("OGG"):
        raise BandmateError(
            f"libsndfile {sf.__libsndfile_version__} has no Ogg/Opus support; "
            "install soundfile>=0.12 (its wheels bundle libopus)"
        )
    codec = codec_from_checkpoint(args.codec)
    clips = pick_clips(Path(args.data), args.clips, args.clip_seconds, args.seed)
    # Codec first, on its own: librosa's and numpy's thread pools must not compete with it.
    codec.decode(codec.encode(torch.from_numpy(clips[0][1])[None]))  # warm-up
    started = time.perf_counter()
    ours = [roundtrip(codec, wav, args.no_quantizer) for _, wav in clips]
    codec_seconds = time.perf_counter() - started
    opus = [opus_roundtrip(wav) for _, wav in clips]
    rows = [
        {"label": label, "ours": metrics(wav, mine), "opus": metrics(wav, theirs)}
        for (label, wav), mine, (theirs, _) in zip(clips, ours, opus, strict=True)
    ]
    return report(args, codec.spec, clips, rows, [k for _, k in opus], codec_seconds)


def report(
    args: argparse.Namespace,
    spec: str,
    clips: list[tuple[str, np.ndarray]],
    rows: list[dict[str, Any]],
    kbps: list[float],
    codec_seconds: float,
) -> dict[str, Any]:
    audio_seconds = sum(len(wav) for _, wav in clips) / RATE
    ours, opus = summarize(rows, "ours"), summarize(rows, "opus")
    per_label = {
        label: {
            "n": sum(r["label"] == label for r in rows),
            "ours": summarize([r for r in rows if r["label"] == label], "ours"),
            "opus_6kbps": summarize([r for r in rows if r["label"] == label], "opus"),
        }
        for label in sorted({r["label"] for r in rows})
    }
    realtime = audio_seconds / codec_seconds
    bar: dict[str, bool] | None = {
        "logmel_distance<=opus": ours["logmel_distance"] <= opus["logmel_distance"],
        "chroma_cosine>=0.90": ours["chroma_cosine"] >= 0.90,
        "onset_f1>=0.90": ours["onset_f1"] >= 0.90,
        "faster_than_realtime": realtime > 1.0,
    }
    if args.no_quantizer:  # no codes, no bitrate: nothing to hold against the bar
        bar = None
    return {
        "data": str(args.data),
        "codec": spec,
        "quantizer": not args.no_quantizer,
        "n_clips": len(rows),
        "clip_seconds": args.clip_seconds,
        "ours": ours,
        "opus_6kbps": {**opus, "measured_kbps": round(float(np.mean(kbps)), 2)},
        "per_label": per_label,
        "speed": {
            "threads": args.threads,
            "audio_seconds": round(audio_seconds, 2),
            "encode_decode_seconds": round(codec_seconds, 3),
            "realtime_factor": round(realtime, 1),
        },
        "bar": bar,
        "meets_bar": None if bar is None else all(bar.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="held-out dataset root or audio folder")
    parser.add_argument("--codec", default="bandmate:default", help="codec spec or directory")
    parser.add_argument("--clips", type=int, default=32, help="number of clips")
    parser.add_argument("--clip-seconds", type=float, default=5.0, help="clip length")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for the codec")
    parser.add_argument("--seed", type=int, default=0, help="clip selection seed")
    parser.add_argument("--out", help="also write the JSON here")
    parser.add_argument(
        "--no-quantizer",
        action="store_true",
        help="diagnostic: decode the encoder's output directly (no codes; not 3 kbps)",
    )
    args = parser.parse_args()
    try:
        result = run(args)
    except BandmateError as error:
        print(f"codec_quality: error: {error}", file=sys.stderr)
        return 2
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
