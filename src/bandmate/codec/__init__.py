"""The project's own neural audio codec: an EnCodec-style network with residual VQ
(4 codebooks x 1024 at 75 Hz on 24 kHz audio), trained by `bandmate codec train`.

`load_codec("default")` gives the checkpoint shipped in the package; any other name is a
checkpoint directory.
"""

from bandmate.codec.neural import NeuralCodec, load_codec

__all__ = ["NeuralCodec", "load_codec"]
