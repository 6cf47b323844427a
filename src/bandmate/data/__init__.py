"""Datasets -> songs -> pairs -> clips: audio I/O, resampling, mixing, splits."""
