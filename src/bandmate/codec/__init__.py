"""The project's own neural audio codec: an EnCodec-style residual VQ around a
Vocos-style network (4 codebooks x 1024 at 75 Hz on 24 kHz audio), trained by
`bandmate codec train`.

`codec_from_checkpoint("default")` gives the checkpoint shipped in the package; any other
name is a checkpoint directory. The network lives in `bandmate.codec.model`, its training
in `bandmate.codec.train` (a layer above: it uses the training toolkit, bandmate.train);
importing this package does not import torch, so the CLI starts quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bandmate.codec.neural import NeuralCodec


def codec_from_checkpoint(name_or_path: str) -> NeuralCodec:
    """The shipped codec (`default`) or a checkpoint directory; see
    `neural.codec_from_checkpoint`."""
    from bandmate.codec.neural import codec_from_checkpoint as load

    return load(name_or_path)
