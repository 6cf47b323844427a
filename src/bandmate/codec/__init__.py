"""The project's own neural audio codec: an EnCodec-style network with residual VQ
(4 codebooks x 1024 at 75 Hz on 24 kHz audio), trained by `bandmate codec train`.

`load_codec("default")` gives the checkpoint shipped in the package; any other name is a
checkpoint directory. The network lives in `bandmate.codec.neural`; importing this
package does not import torch, so the CLI starts quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bandmate.codec.neural import NeuralCodec


def load_codec(name_or_path: str) -> NeuralCodec:
    """The shipped codec (`default`) or a checkpoint directory; see `neural.load_codec`."""
    from bandmate.codec.neural import load_codec as load

    return load(name_or_path)
