"""Tiny token directories of random ids, written with the real shard writer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bandmate.tokens.shards import SplitTokens, write_manifest, write_split

F_SEM, K, F_AC, V_SEM, CODEBOOK = 6, 2, 9, 16, 8


def write_tokens(
    root: Path,
    n_train: int = 12,
    n_valid: int = 4,
    seed: int = 0,
    echo_frames: int = 0,
    echo_of: str = "input",
) -> Path:
    """Random ids; with `echo_frames` F, clips of F input frames whose targets echo the
    input at the same time (a target that only a model aligning its steps with the
    input's frames can predict). `echo_of="target"`: the semantic targets are random
    instead, the first codebook echoes them and the others are random (only a model
    aligning its acoustic steps with its own semantic steps can predict the first; in
    the delay layout a copy of it would tell the others)."""
    rng = np.random.default_rng(seed)
    checksums: dict[str, str] = {}
    for split, n in (("train", n_train), ("valid", n_valid)):
        if echo_frames:
            inputs = rng.integers(0, V_SEM, (n, echo_frames))
            same_time = np.arange(echo_frames * 3 // 2) * 2 // 3  # input frame per code frame
            semantic = inputs if echo_of == "input" else rng.integers(0, V_SEM, inputs.shape)
            codes = np.repeat(semantic[:, None, same_time] % CODEBOOK, K, axis=1)
            if echo_of != "input":
                codes[:, 1:] = rng.integers(0, CODEBOOK, codes[:, 1:].shape)
            tokens = SplitTokens(inputs, semantic, codes, _clips(n))
        else:
            tokens = SplitTokens(
                input_semantic=rng.integers(0, V_SEM, (n, F_SEM)),
                target_semantic=rng.integers(0, V_SEM, (n, F_SEM)),
                target_acoustic=rng.integers(0, CODEBOOK, (n, K, F_AC)),
                clips=_clips(n),
            )
        checksums.update(write_split(root, split, tokens))
    (root / "centroids.npy").write_bytes(b"centroids")
    manifest = {
        "semantic": {"spec": "kmeans:test", "vocab_size": V_SEM, "state": "centroids.npy"},
        "codec": {"spec": "test:codec", "codebook_size": CODEBOOK, "num_codebooks": K},
        "checksums": checksums,
    }
    write_manifest(root, manifest)
    return root


def _clips(n: int) -> list[dict[str, object]]:
    return [{"song": f"song{i}", "start_s": 0.0} for i in range(n)]


@pytest.fixture
def tokens_dir(tmp_path: Path) -> Path:
    return write_tokens(tmp_path / "tokens")
