"""Token id layout: raw token arrays <-> model ids, and the valid ids at every position.

Ids: 0 PAD (also the decoder start, as in T5), 1 EOS, then the semantic range
[2, 2 + V_sem), then one range of `codebook_size` ids per codebook. With the thesis's
tokenizers that is 2 + 1024 + 4 x 1024 = 5122 ids.

Two target layouts (letters: N clips, F_sem semantic frames, F_ac acoustic frames,
K codebooks, L flat target length, S streams, T decoder steps, V vocabulary):

- `flatten` (thesis): one stream, L = F_sem + K * F_ac + 1: the semantic ids, then the
  acoustic codes frame by frame (c0 c1 c2 c3 c0 ...), then EOS. Targets are [N, L].
- `delay` (MusicGen): S = K streams decoded together, T = F_sem + F_ac + K steps.
  Steps [0, F_sem) carry the semantic ids in stream 0 (other streams PAD); step
  F_sem + t carries codebook k's frame t - k in stream k (PAD where that frame does not
  exist); the last step carries EOS in stream 0. Targets are [N, K, T].

- `events`: one stream of note events on the input's beat grid (tokens/events.py), up to
  `event_steps` ids ending in EOS, PAD after it. Targets are [N, event_steps]; which id
  may come next depends on the ids before it (events.Grammar), so the per-position
  facts below are only the widest ranges: EOS and the event ids.

PAD positions inside a layout have loss weight 0 and a mask that admits only PAD.
The input (encoder) sequence is the input's semantic ids + EOS for every layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bandmate.errors import DataError
from bandmate.tokens.events import EventVocab
from bandmate.tokens.ids import EOS_ID, NUM_SPECIALS, PAD_ID

__all__ = ["EOS_ID", "NUM_SPECIALS", "PAD_ID", "TokenLayout", "layout_from_manifest"]
KINDS = ("flatten", "delay", "events")

# Part codes per target position, for per-part metrics.
PART_PAD, PART_SEMANTIC, PART_ACOUSTIC, PART_EOS = 0, 1, 2, 3


@dataclass(frozen=True)
class TokenLayout:
    """The id layout of one token set; all methods are pure functions of these fields."""

    kind: str  # "flatten" or "delay"
    semantic_vocab_size: int  # V_sem: number of semantic clusters
    num_codebooks: int  # K
    codebook_size: int  # entries per codebook
    semantic_frames: int  # F_sem of the input and of the target's semantic part
    acoustic_frames: int  # F_ac of the target's acoustic part (0 for events)
    event_steps: int = 0  # events only: target ids per clip, EOS included

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown layout {self.kind!r}; choose one of {', '.join(KINDS)}")

    # ----- id ranges -------------------------------------------------------------------
    @property
    def semantic_offset(self) -> int:
        return NUM_SPECIALS

    def codebook_offset(self, k: int) -> int:
        return NUM_SPECIALS + self.semantic_vocab_size + k * self.codebook_size

    @property
    def vocab_size(self) -> int:
        if self.kind == "events":
            return self.events.end
        return self.codebook_offset(self.num_codebooks)

    @property
    def events(self) -> EventVocab:
        """The event ids' ranges (after the semantic range; events layout only)."""
        return EventVocab(NUM_SPECIALS + self.semantic_vocab_size)

    @property
    def num_streams(self) -> int:
        """Decoder streams: K for delay, else 1."""
        return self.num_codebooks if self.kind == "delay" else 1

    @property
    def input_length(self) -> int:
        return self.semantic_frames + 1

    @property
    def target_shape(self) -> tuple[int, ...]:
        """(L,) for flatten and events, (K, T) for delay."""
        if self.kind == "events":
            return (self.event_steps,)
        if self.kind == "flatten":
            return (self.semantic_frames + self.num_codebooks * self.acoustic_frames + 1,)
        return (
            self.num_codebooks,
            self.semantic_frames + self.acoustic_frames + self.num_codebooks,
        )

    @property
    def target_steps(self) -> int:
        """Decoder steps per clip: L for flatten, T for delay."""
        return self.target_shape[-1]

    # ----- encoding --------------------------------------------------------------------
    def encoder_tokens(self, input_semantic: np.ndarray) -> np.ndarray:
        """Raw input semantic ids [N, F_sem] -> encoder ids [N, F_sem + 1] (ids + EOS)."""
        ids = input_semantic.astype(np.int64) + self.semantic_offset
        eos = np.full((ids.shape[0], 1), EOS_ID, dtype=np.int64)
        return np.concatenate([ids, eos], axis=1)

    def null_input(self) -> np.ndarray:
        """Encoder ids [F_sem + 1] standing for "no input": EOS at every position (an id
        no real input holds there). Classifier-free guidance contrasts the model's
        prediction given the input with its prediction given this."""
        return np.full(self.input_length, EOS_ID, dtype=np.int64)

    def target_tokens(self, semantic: np.ndarray, acoustic: np.ndarray) -> np.ndarray:
        """Raw semantic [N, F_sem] and acoustic [N, K, F_ac] -> targets [N, *target_shape]."""
        self._codes_only()
        n, k, f_ac = acoustic.shape
        sem = semantic.astype(np.int64) + self.semantic_offset  # [N, F_sem]
        offsets = np.array([self.codebook_offset(i) for i in range(k)], dtype=np.int64)
        ac = acoustic.astype(np.int64) + offsets[None, :, None]  # [N, K, F_ac]
        if self.kind == "flatten":
            frames = ac.transpose(0, 2, 1).reshape(n, f_ac * k)  # c0 c1 c2 c3 c0 ...
            eos = np.full((n, 1), EOS_ID, dtype=np.int64)
            return np.concatenate([sem, frames, eos], axis=1)
        out = np.full((n, *self.target_shape), PAD_ID, dtype=np.int64)
        f_sem = self.semantic_frames
        out[:, 0, :f_sem] = sem
        for i in range(k):
            out[:, i, f_sem + i : f_sem + i + f_ac] = ac[:, i]
        out[:, 0, -1] = EOS_ID
        return out

    def split_target(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Targets [N, *target_shape] -> raw (semantic [N, F_sem], acoustic [N, K, F_ac])."""
        self._codes_only()
        k, f_sem, f_ac = self.num_codebooks, self.semantic_frames, self.acoustic_frames
        offsets = np.array([self.codebook_offset(i) for i in range(k)], dtype=np.int64)
        if self.kind == "flatten":
            sem = targets[:, :f_sem]
            ac = targets[:, f_sem : f_sem + k * f_ac].reshape(-1, f_ac, k).transpose(0, 2, 1)
        else:
            sem = targets[:, 0, :f_sem]
            ac = np.stack([targets[:, i, f_sem + i : f_sem + i + f_ac] for i in range(k)], axis=1)
        return sem - self.semantic_offset, ac - offsets[None, :, None]

    def decoder_inputs(self, targets: np.ndarray) -> np.ndarray:
        """Teacher-forcing inputs: targets shifted right by one step, PAD (start) first."""
        out = np.full_like(targets, PAD_ID)
        out[..., 1:] = targets[..., :-1]
        return out

    # ----- per-position facts ----------------------------------------------------------
    def position_ranges(self) -> np.ndarray:
        """Valid id range [lo, hi) per target position: int64 [*target_shape, 2]
        (events: EOS up to the last event id everywhere, the semantic range included)."""
        if self.kind == "events":
            return np.tile(np.array([EOS_ID, self.vocab_size]), (self.event_steps, 1))
        k, f_sem = self.num_codebooks, self.semantic_frames
        sem = (self.semantic_offset, self.codebook_offset(0))
        books = [(self.codebook_offset(i), self.codebook_offset(i + 1)) for i in range(k)]
        ranges = np.zeros((*self.target_shape, 2), dtype=np.int64)
        ranges[..., 1] = PAD_ID + 1  # PAD positions admit only PAD
        if self.kind == "flatten":
            ranges[:f_sem] = sem
            ranges[f_sem:-1] = np.tile(np.array(books), (self.acoustic_frames, 1))
            ranges[-1] = (EOS_ID, EOS_ID + 1)
            return ranges
        ranges[0, :f_sem] = sem
        for i in range(k):
            ranges[i, f_sem + i : f_sem + i + self.acoustic_frames] = books[i]
        ranges[0, -1] = (EOS_ID, EOS_ID + 1)
        return ranges

    def input_frames(self) -> np.ndarray:
        """The input frame each decoder step predicts the sound of: int64 [target_steps].

        The encoder's position j is input semantic frame j (EOS at F_sem). A semantic
        target step i is frame i; an acoustic step of frame t (stream 0 in the delay
        layout) is the input frame at the same time, t * F_sem // F_ac; the final EOS
        step maps to the encoder's EOS. The time-aligned model inputs
        (`T5Config.aligned_input`, `aligned_semantic`) pick each step's frame from this.
        """
        if self.kind == "events":
            raise ValueError("event steps have no fixed frames: see events.query_frames")
        f_sem, f_ac, k = self.semantic_frames, self.acoustic_frames, self.num_codebooks
        acoustic = np.arange(f_ac, dtype=np.int64) * f_sem // f_ac
        if self.kind == "flatten":
            acoustic = np.repeat(acoustic, k)
        else:  # steps past the last frame carry the other streams' delayed codes
            acoustic = np.concatenate([acoustic, np.full(k - 1, acoustic[-1])])
        semantic = np.arange(f_sem, dtype=np.int64)
        return np.concatenate([semantic, acoustic, [f_sem]])

    def valid_mask(self) -> np.ndarray:
        """Bool [*target_shape, V]: True where the id is valid at that position."""
        ranges = self.position_ranges()
        ids = np.arange(self.vocab_size)
        return (ids >= ranges[..., :1]) & (ids < ranges[..., 1:])

    def _codes_only(self) -> None:
        if self.kind == "events":
            raise ValueError("an events target holds note events, not codec tokens")

    def parts(self) -> np.ndarray:
        """Part code per target position (PART_PAD/SEMANTIC/ACOUSTIC/EOS): int8 [*target_shape];
        an events target counts as acoustic (the part that sounds) at every position."""
        if self.kind == "events":
            return np.full(self.target_shape, PART_ACOUSTIC, dtype=np.int8)
        lo = self.position_ranges()[..., 0]
        part = np.full(lo.shape, PART_ACOUSTIC, dtype=np.int8)
        part[lo == PAD_ID] = PART_PAD
        part[lo == EOS_ID] = PART_EOS
        part[lo == self.semantic_offset] = PART_SEMANTIC
        return part

    def loss_weights(self) -> np.ndarray:
        """Float32 [*target_shape]: 1 where a token is predicted, 0 at in-layout PAD."""
        return (self.parts() != PART_PAD).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "events":
            return {
                "kind": self.kind,
                "semantic_vocab_size": self.semantic_vocab_size,
                "num_codebooks": 0,
                "codebook_size": 0,
                "semantic_frames": self.semantic_frames,
                "acoustic_frames": 0,
                "event_steps": self.event_steps,
            }
        return {
            "kind": self.kind,
            "semantic_vocab_size": self.semantic_vocab_size,
            "num_codebooks": self.num_codebooks,
            "codebook_size": self.codebook_size,
            "semantic_frames": self.semantic_frames,
            "acoustic_frames": self.acoustic_frames,
        }


def _lookup(manifest: dict[str, Any], keys: tuple[tuple[str, ...], ...]) -> int | None:
    """The first of several spellings of a manifest field (nested paths) that exists."""
    for path in keys:
        node: Any = manifest
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, int) and not isinstance(node, bool):
            return node
    return None


def layout_from_manifest(
    manifest: dict[str, Any],
    kind: str,
    semantic_frames: int,
    acoustic_shape: tuple[int, int],
    where: str = "manifest.json",
) -> TokenLayout:
    """Build the layout of a token directory.

    Vocabulary sizes come from the manifest (`semantic.vocab_size`, `codec.codebook_size`,
    `codec.num_codebooks`; flat `semantic_vocab_size`/`codebook_size`/`num_codebooks` also
    accepted); frame counts from the arrays' shapes.

    Args:
        manifest: the token directory's manifest.
        kind: "flatten" or "delay".
        semantic_frames: F_sem (target_semantic.shape[1]).
        acoustic_shape: (K, F_ac) from target_acoustic.shape[1:].
        where: the manifest's path, for error messages.
    """
    sem = _lookup(manifest, (("semantic", "vocab_size"), ("semantic_vocab_size",)))
    size = _lookup(manifest, (("codec", "codebook_size"), ("codebook_size",)))
    books = _lookup(manifest, (("codec", "num_codebooks"), ("num_codebooks",)))
    if sem is None or size is None:
        raise DataError(where, "missing semantic.vocab_size or codec.codebook_size")
    k, f_ac = acoustic_shape
    if books is not None and books != k:
        raise DataError(where, f"codec.num_codebooks is {books} but the arrays hold {k}")
    if kind not in KINDS:
        raise DataError(where, f"unknown layout {kind!r}; choose one of {', '.join(KINDS)}")
    return TokenLayout(kind, sem, k, size, semantic_frames, f_ac)
