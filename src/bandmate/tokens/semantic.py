"""Semantic tokenizers: k-means cluster ids of 50 Hz frame features.

One codebook per input instrument, as the thesis did: k-means is fitted on the frames of
the input instrument's clips, then applied to input and target. The fitted state is a
folder (never a pickle):

    semantic.json            format, spec, feature settings, K, rates
    centroids.safetensors    mean [D], std [D], centroids [K, D]

Which features to cluster (see features.py): `spectral` (MFCC + chroma, offline) or
`w2v-bert` (layer-7 hidden states, the thesis's choice). MERT (music-trained, 24 kHz, 75 Hz)
would fit the same interface; it is not built in (see README).
Letters: B batch, S samples, F frames, D feature dimension, K clusters.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from bandmate.errors import DataError
from bandmate.io import atomic_path, atomic_write_text, read_format_json
from bandmate.kmeans import KMeansState, StreamingKMeans
from bandmate.tokens.features import SAMPLE_RATE_HZ, FrameFeatures, build_features

FORMAT = "bandmate-semantic/1"
STATE_JSON = "semantic.json"
STATE_TENSORS = "centroids.safetensors"


def features_spec(settings: dict[str, Any]) -> str:
    """A short name for the features: `spectral`, `spectral:mfcc8+chroma4096` or
    `spectral:mfcc4+saliencechroma4096` (other than the default 20 MFCCs and 1024-point
    STFT chroma), `w2v-bert:facebook/w2v-bert-2.0#layer7`."""
    if settings["kind"] == "w2v-bert":
        return f"w2v-bert:{settings['model']}#layer{settings['layer']}"
    n_mfcc, chroma_fft = settings.get("n_mfcc", 20), settings.get("chroma_fft", 1024)
    chroma = settings.get("chroma", "stft")
    if (n_mfcc, chroma_fft, chroma) != (20, 1024, "stft"):
        kind = "" if chroma == "stft" else chroma
        return f"spectral:mfcc{n_mfcc}+{kind}chroma{chroma_fft}"
    return str(settings["kind"])


class KMeansTokenizer:
    """A `SemanticTokenizer`: features -> standardise -> nearest centroid."""

    sample_rate_hz = SAMPLE_RATE_HZ
    frame_rate_hz = 50.0

    def __init__(self, features: FrameFeatures, state: KMeansState) -> None:
        self.features = features
        self.state = state
        self.vocab_size = int(state.centroids.shape[0])
        self.spec = f"{features_spec(features.describe())}/kmeans{self.vocab_size}"

    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        """wav [B, S] mono at 16 kHz -> ids [B, F] int64 in [0, vocab_size), F = S // 320."""
        return self.state.assign(self.features(wav))  # [B, F, D] -> [B, F]

    def save(self, folder: str | Path, extra: dict[str, Any] | None = None) -> None:
        """Write the state folder (atomically, file by file); `extra` goes into the JSON."""
        folder = Path(folder)
        tensors = {"mean": self.state.mean, "std": self.state.std}
        tensors["centroids"] = self.state.centroids
        with atomic_path(folder / STATE_TENSORS) as tmp:
            save_file({k: v.contiguous().float() for k, v in tensors.items()}, str(tmp))
        meta = {
            "format": FORMAT,
            "spec": self.spec,
            "features": self.features.describe(),
            "num_clusters": self.vocab_size,
            "sample_rate_hz": self.sample_rate_hz,
            "frame_rate_hz": self.frame_rate_hz,
            **(extra or {}),
        }
        atomic_write_text(folder / STATE_JSON, json.dumps(meta, indent=2) + "\n")


def read_semantic_meta(folder: str | Path) -> dict[str, Any]:
    """The JSON of a state folder; `DataError` when missing or of another format."""
    return read_format_json(Path(folder) / STATE_JSON, FORMAT, "no semantic tokenizer state here")


def load_semantic(folder: str | Path, features: FrameFeatures | None = None) -> KMeansTokenizer:
    """Rebuild a fitted tokenizer from its folder (`features` overrides the stored settings,
    e.g. an already loaded model)."""
    meta = read_semantic_meta(folder)
    path = Path(folder) / STATE_TENSORS
    try:
        tensors = load_file(str(path))
    except (FileNotFoundError, OSError) as error:
        raise DataError(path, f"unreadable centroids ({error})") from None
    state = KMeansState(tensors["mean"], tensors["std"], tensors["centroids"])
    return KMeansTokenizer(features or build_features(meta["features"]), state)


def fit_semantic(
    features: FrameFeatures,
    clips: Iterable[torch.Tensor],
    num_clusters: int,
    seed: int = 0,
    batch_clips: int = 8,
    on_clip: Callable[[], None] | None = None,
) -> KMeansTokenizer:
    """Fit k-means on the frames of a stream of clips.

    Args:
        features: the frame extractor.
        clips: mono clips [S] at 16 kHz (lengths may differ; batched by equal length).
        num_clusters: K.
        seed: seeds centroid initialisation.
        batch_clips: clips per feature-extraction batch.
        on_clip: called once per clip consumed (progress bars).
    Returns:
        the fitted tokenizer.
    """
    kmeans = StreamingKMeans(num_clusters, seed=seed)
    pending: list[torch.Tensor] = []

    def flush() -> None:
        by_length: dict[int, list[torch.Tensor]] = {}
        for clip in pending:
            by_length.setdefault(clip.shape[-1], []).append(clip)
        for group in by_length.values():
            kmeans.partial_fit(features(torch.stack(group)))  # [B, F, D]
        pending.clear()

    for clip in clips:
        pending.append(clip)
        if on_clip is not None:
            on_clip()
        if len(pending) >= batch_clips:
            flush()
    flush()
    return KMeansTokenizer(features, kmeans.finish())
