"""bandmate: generates the band that plays along with one recorded part."""

__version__ = "0.1.0"
