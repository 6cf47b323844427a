"""Token shards: the tokenized clips of a dataset, memory-mappable for training.

Layout of a token directory (format `bandmate-tokens/1`):

    DIR/manifest.json                 codec/semantic specs, shapes, preset, counts, checksums
    DIR/<split>/input_semantic.npy    int16 [N, F_sem]    semantic ids of the input
    DIR/<split>/target_semantic.npy   int16 [N, F_sem]    semantic ids of the target
    DIR/<split>/target_acoustic.npy   int16 [N, K, F_ac]  codec codes of the target
    DIR/<split>/clips.jsonl           one JSON line per clip: song, start_s

With `target_format: events` in the manifest (`bandmate tokenize --set
target_format=events`), the target arrays are instead:

    DIR/<split>/target_events.npy     int16 [N, L]        model ids of the target's note
                                                          events (tokens/events.py), EOS, PAD
    DIR/<split>/beats_s.npy           float32 [N, B]      the clip's beats, seconds after its
                                                          start (NaN after the last)
    DIR/semantic.json                 semantic tokenizer settings (`bandmate tokenize`)
    DIR/centroids.safetensors         its k-means state (load_semantic(DIR) rebuilds it)
    DIR/config.yaml                   the resolved tokenize config

manifest.json keys written by `bandmate tokenize`: `codec` {spec, sample_rate_hz,
frame_rate_hz, num_codebooks, codebook_size}, `semantic` {spec, state, centroids,
vocab_size, sample_rate_hz, frame_rate_hz}, `frames` {semantic, acoustic}, `dataset`,
`root`, `preset`, `pair` {input, target}, `clip_seconds`, `splits` {name: {songs, clips,
hours}}, `skipped` {songs: {id: reason}, clips: {reason: count}}, `checksums`, `timbres`
[{file, sha256}: the SoundFonts a `bandmate synth` dataset was rendered with; [] for other
data; absent in directories made before it was recorded, which were all TimGM6mb].

Ids here are raw (cluster index, codebook entry); `layout.py` turns them into model ids.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bandmate.errors import DataError
from bandmate.io import atomic_path, atomic_write_text, read_format_json

FORMAT = "bandmate-tokens/1"
ARRAYS = ("input_semantic", "target_semantic", "target_acoustic")
EVENT_ARRAYS = ("input_semantic", "target_events", "beats_s")


@dataclass(frozen=True)
class SplitTokens:
    """One split's arrays (memory-mapped when loaded) and clip records."""

    input_semantic: np.ndarray  # [N, F_sem]
    target_semantic: np.ndarray  # [N, F_sem] ([N, 0] for events)
    target_acoustic: np.ndarray  # [N, K, F_ac] ([N, 0, 0] for events)
    clips: list[dict[str, Any]]
    target_events: np.ndarray | None = None  # [N, L] events only
    beats_s: np.ndarray | None = None  # [N, B] events only

    @property
    def arrays(self) -> tuple[str, ...]:
        """The names of the arrays this split stores."""
        return ARRAYS if self.target_events is None else EVENT_ARRAYS

    def __len__(self) -> int:
        return int(self.input_semantic.shape[0])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_split(root: str | Path, split: str, tokens: SplitTokens) -> dict[str, str]:
    """Write one split's arrays atomically. Returns {relative path: sha256}."""
    folder = Path(root) / split
    checksums: dict[str, str] = {}
    for name in tokens.arrays:
        dtype = np.float32 if name == "beats_s" else np.int16
        array = np.ascontiguousarray(getattr(tokens, name), dtype=dtype)
        with atomic_path(folder / f"{name}.npy") as tmp, tmp.open("wb") as handle:
            np.save(handle, array)
        checksums[f"{split}/{name}.npy"] = file_sha256(folder / f"{name}.npy")
    atomic_write_text(folder / "clips.jsonl", "".join(json.dumps(c) + "\n" for c in tokens.clips))
    return checksums


def write_manifest(root: str | Path, manifest: dict[str, Any]) -> None:
    """Write manifest.json (adds the format tag)."""
    atomic_write_text(
        Path(root) / "manifest.json", json.dumps({"format": FORMAT, **manifest}, indent=2) + "\n"
    )


def read_manifest(root: str | Path) -> dict[str, Any]:
    """The manifest of a token directory; `DataError` when absent or of another format."""
    missing = "not a token directory (no manifest.json); run `bandmate tokenize`"
    return read_format_json(Path(root) / "manifest.json", FORMAT, missing)


def load_split(root: str | Path, split: str, verify: bool = False) -> SplitTokens:
    """Memory-map one split. With `verify`, check the manifest's checksums first."""
    root = Path(root)
    manifest = read_manifest(root)
    folder = root / split
    if verify:
        for rel, expected in manifest.get("checksums", {}).items():
            if rel.startswith(f"{split}/") and file_sha256(root / rel) != expected:
                raise DataError(
                    root / rel, "checksum mismatch: the file is corrupt; re-run tokenize"
                )
    events = manifest.get("target_format") == "events"
    try:
        names = EVENT_ARRAYS if events else ARRAYS
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in names}
        clips = [json.loads(line) for line in (folder / "clips.jsonl").read_text().splitlines()]
    except FileNotFoundError as error:
        raise DataError(error.filename or folder, "missing token file; re-run tokenize") from None
    except ValueError as error:
        raise DataError(folder, f"unreadable token array ({error})") from None
    if events:
        n = len(arrays["input_semantic"])
        arrays["target_semantic"] = np.zeros((n, 0), np.int16)
        arrays["target_acoustic"] = np.zeros((n, 0, 0), np.int16)
    return SplitTokens(clips=clips, **arrays)
