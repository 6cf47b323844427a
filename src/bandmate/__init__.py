"""bandmate: generates the band that plays along with one recorded part.

from bandmate import Accompanist
acc = Accompanist.from_pretrained("bandmate:bass-to-drums")
accompaniment, rate = acc.generate(audio, sample_rate)
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Accompanist", "__version__"]

if TYPE_CHECKING:
    from bandmate.generate.accompanist import Accompanist


def __getattr__(name: str) -> Any:
    # Lazy: `import bandmate` (the CLI's start) stays free of torch until a model is used.
    if name == "Accompanist":
        from bandmate.generate.accompanist import Accompanist

        return Accompanist
    raise AttributeError(f"module 'bandmate' has no attribute {name!r}")
