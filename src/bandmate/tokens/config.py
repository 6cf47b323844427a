"""Settings of `bandmate tokenize` (YAML + `--set a.b=v`, see bandmate.config)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bandmate.config import Count, FieldError, check_fields
from bandmate.data.clips import ClipConfig
from bandmate.data.datasets import READERS

FIT_ON = ("input", "input+target")
TARGET_FORMATS = ("codes", "events")
CHROMA_KINDS = ("stft", "salience")  # spectral features' chroma (tokens/features.py)


@dataclass(frozen=True)
class SemanticConfig:
    kind: str = "spectral"  # spectral (MFCC + chroma, offline) | w2v-bert (thesis)
    model: str = "facebook/w2v-bert-2.0"  # w2v-bert only: hub id or local directory
    layer: int = 7  # w2v-bert only: hidden layer clustered (thesis: 7)
    n_mfcc: int = 20  # spectral only: MFCCs per frame (fewer weigh pitch more)
    chroma_fft: int = 1024  # spectral only: chroma's STFT size (4096 resolves bass notes)
    # spectral only: stft folds the spectrum; salience folds each pitch's harmonics, so a
    # note counts under its fundamental (a bassoon's low notes otherwise read as fifths)
    chroma: str = "stft"  # stft | salience
    num_clusters: int = 1024  # K: semantic vocabulary size
    fit_max_clips: int = 2000  # at most this many train-split clips fit k-means
    # Whose clips fit k-means: the inputs alone, or inputs and targets. Targets' semantic
    # ids come from the same clusters, so clusters fitted on drums alone give a bass
    # target few distinct ids, and the decoder's semantic stage little to plan with.
    fit_on: str = "input"  # input | input+target
    # A tokenizer fitted before, used instead of fitting one: a token directory, a
    # checkpoint (its tokenizer/ folder) or `bandmate:PRESET`. Fine-tuning a checkpoint on
    # new data needs its own tokens: a new k-means would renumber every semantic id.
    reuse: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("spectral", "w2v-bert"):
            raise ValueError(f"kind {self.kind!r} not one of spectral, w2v-bert")
        if not 2 <= self.num_clusters <= 32767:  # ids are stored as int16
            raise ValueError(f"num_clusters {self.num_clusters} not in [2, 32767]")
        if self.chroma not in CHROMA_KINDS:
            raise ValueError(f"chroma {self.chroma!r} not one of {', '.join(CHROMA_KINDS)}")
        if self.fit_on not in FIT_ON:
            raise ValueError(f"fit_on {self.fit_on!r} not one of {', '.join(FIT_ON)}")


@dataclass(frozen=True)
class TokenizeConfig:
    dataset: str = "medleydb"  # reader: medleydb, slakh, musdb, moisesdb, folder
    root: str = ""  # dataset root folder
    preset: str | None = None  # e.g. drums-to-bass; or give input + target
    input: str | None = None  # input label or role (instead of preset)
    target: str | None = None  # target spec (instead of preset)
    clips: ClipConfig = field(default_factory=ClipConfig)
    codec: str = "bandmate:default"  # acoustic codec spec, e.g. encodec:DIR@3kbps
    semantic: SemanticConfig = field(default_factory=SemanticConfig)
    splits: tuple[str, ...] = ("train", "valid", "test")  # splits written
    workers: Count = 1  # parallel worker processes (each loads its own codec)
    batch_clips: Count = 8  # clips per encoder batch
    seed: int = 0  # k-means initialisation
    # What the target becomes: `codes` (semantic ids + codec codes, the thesis) or `events`
    # (the target stems' MIDI as note events on the beat grid, tokens/events.py; needs MIDI
    # beside the stems: `bandmate synth` data, Slakh)
    target_format: str = "codes"
    max_events: Count = 1024  # events only: ids per clip, EOS included (longer clips skipped)

    def __post_init__(self) -> None:
        check_fields(self)
        if self.target_format not in TARGET_FORMATS:
            choices = ", ".join(TARGET_FORMATS)
            raise FieldError(
                "target_format", f"must be one of {choices}, got {self.target_format!r}"
            )
        if self.dataset not in READERS:  # the readers' table is the list of choices
            choices = ", ".join(READERS)
            raise FieldError("dataset", f"must be one of {choices}, got {self.dataset!r}")
