"""Train/valid/test split by song, decided by a hash of the song id.

A song's split depends only on its own id, never on list order, so adding songs to a
dataset never moves an existing song to another split (no leak between runs).
"""

from __future__ import annotations

import hashlib
from typing import Literal

Split = Literal["train", "valid", "test"]
SPLITS: tuple[Split, ...] = ("train", "valid", "test")
DEFAULT_FRACTIONS = (0.90, 0.05, 0.05)


def split_of(
    song_id: str, fractions: tuple[float, float, float] = DEFAULT_FRACTIONS, salt: str = "bandmate"
) -> Split:
    """The split of one song: a uniform draw from the SHA-256 of `salt/song_id`."""
    if abs(sum(fractions) - 1.0) > 1e-6 or min(fractions) < 0:
        raise ValueError(f"split fractions must be >= 0 and sum to 1, got {fractions}")
    digest = hashlib.sha256(f"{salt}/{song_id}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < fractions[0]:
        return "train"
    return "valid" if u < fractions[0] + fractions[1] else "test"
