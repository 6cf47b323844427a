"""Training configuration: frozen dataclasses loaded by `bandmate.config.load_config`.

`batch_size` is the global batch: it is split across processes and accumulation
micro-batches, so the same config gives the same optimisation on 1 or N processes.
Choices (`Literal`) and ranges (`Count`, `Share`, ...) are checked as a config is built,
so a bad value fails when the config loads, naming its key (`bandmate.config`). The
model section is the model's own config (`T5Config`), written as a preset and the fields
that differ from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from bandmate.config import (
    Count,
    FieldError,
    NonNegative,
    NonNegativeInt,
    Positive,
    Range,
    Share,
    check_fields,
    from_dict,
)
from bandmate.model.config import T5Config

# A share that must leave something: dropout 1 would drop every activation.
Dropout = Annotated[float, Range(0, 1, high_open=True)]


@dataclass(frozen=True)
class DataConfig:
    tokens: str = ""  # token directory written by `bandmate tokenize`
    train_split: str = "train"
    valid_split: str = "valid"
    # flatten (thesis) | delay (MusicGen) | events (note events; tokens made with
    # `bandmate tokenize --set target_format=events`)
    layout: Literal["flatten", "delay", "events"] = "flatten"
    input_length: NonNegativeInt = 0  # encoder length, padded with PAD; 0 = natural (F_sem + 1)
    target_length: NonNegativeInt = 0  # decoder steps, padded with PAD (zero weight); 0 = natural

    def __post_init__(self) -> None:
        check_fields(self)


def tiny_model() -> T5Config:
    """The model of a config that names none: the tiny preset."""
    return from_dict(T5Config, {"preset": "tiny"}, "model")


@dataclass(frozen=True)
class OptimConfig:
    # adafactor: torch's, as in T5X (relative step, update clipping)
    name: Literal["adamw", "adafactor"] = "adamw"
    lr: Positive = 3e-4  # peak rate; Adafactor caps its own 1/sqrt(step) rate by it
    # each after a linear warm-up
    schedule: Literal["constant", "cosine", "rsqrt"] = "constant"
    warmup_steps: NonNegativeInt = 0
    min_lr_ratio: Share = 0.1  # cosine: final rate as a share of the peak
    weight_decay: NonNegative = 0.0
    betas: tuple[Dropout, ...] = (0.9, 0.98)  # AdamW only: two, each in [0, 1)
    clip_norm: NonNegative = 1.0  # global gradient-norm clipping; 0 = off
    z_loss: NonNegative = 1e-4  # T5X's auxiliary loss on log Z, keeps logits from drifting

    def __post_init__(self) -> None:
        check_fields(self)
        if self.name == "adamw" and len(self.betas) != 2:
            raise FieldError("betas", f"expected two numbers, got {list(self.betas)}")


@dataclass(frozen=True)
class AugmentConfig:
    # Token-level only; audio-level augmentation (gain, stem remix, pitch/tempo) belongs
    # to tokenization.
    input_token_noise: Share = 0.0  # share of input semantic ids replaced by random ones
    # share of clips whose whole input becomes the null input (`TokenLayout.null_input`):
    # the same model then also predicts without an input, for classifier-free guidance
    input_dropout: Dropout = 0.0
    # share of the decoder's teacher-forcing inputs (its own past) replaced by random ids
    # valid at that position; the labels stay clean. A corrupted past cannot be trusted,
    # so the model must lean on the input to predict the next token.
    target_token_noise: Share = 0.0

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class TrainConfig:
    out: str = "runs/train"  # run directory: config, metrics, plots, checkpoints
    seed: NonNegativeInt = 0  # numpy's generators take no negative seed
    steps: Count = 1000
    batch_size: Count = 32  # global batch (all processes, all accumulation micro-batches)
    grad_accum: Count = 1
    # auto: bf16 autocast on GPU, fp32 on CPU
    precision: Literal["auto", "bf16", "fp32"] = "auto"
    # fsdp shards weights and optimizer state; >1 process only
    distributed: Literal["ddp", "fsdp"] = "ddp"
    log_every: Count = 10
    eval_every: Count = 500
    eval_batches: NonNegativeInt = 0  # validation batches per evaluation; 0 = the whole split
    checkpoint_every: Count = 1000
    keep_last: Count = 2  # newest checkpoints kept, besides the best by validation loss
    resume: bool = True  # continue from the run directory's last checkpoint if present
    # Fine-tuning: start from this checkpoint's weights (a checkpoint or run directory, or
    # bandmate:PRESET) instead of random ones; the optimizer and schedule start afresh.
    # Its model must equal this config's, and the tokens must come from its tokenizer.
    # A run that resumes from its own checkpoint ignores it.
    init: str = ""
    progress: bool = True  # tqdm progress bar on the main process
    # full: softmax over the whole vocabulary (the thesis) | valid: over the ids valid at
    # each position only, what constrained sampling draws from (faster; train/losses.py)
    softmax: Literal["full", "valid"] = "full"
    data: DataConfig = field(default_factory=DataConfig)
    # A preset plus the fields that differ from it, e.g. {preset: mini, dropout: 0.0,
    # aligned_input: true} (model/config.py); vocab_size and num_streams are the tokens'.
    model: T5Config = field(default_factory=tiny_model)
    optim: OptimConfig = field(default_factory=OptimConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        check_fields(self)
