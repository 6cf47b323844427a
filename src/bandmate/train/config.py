"""Training configuration: frozen dataclasses loaded by `bandmate.config.load_config`.

`batch_size` is the global batch: it is split across processes and accumulation
micro-batches, so the same config gives the same optimisation on 1 or N processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DataConfig:
    tokens: str = ""  # token directory written by `bandmate tokenize`
    train_split: str = "train"
    valid_split: str = "valid"
    layout: str = "flatten"  # flatten (thesis) | delay (MusicGen)
    input_length: int = 0  # encoder length, padded with PAD; 0 = natural (F_sem + 1)
    target_length: int = 0  # decoder steps, padded with PAD (zero weight); 0 = natural


@dataclass(frozen=True)
class ModelSection:
    preset: str = "tiny"  # tiny | mini (the shipped models) | small | base (T5 1.1)
    dropout: float = 0.1
    cross_bias: bool = False  # time-aligned cross-attention bias (model/config.py); not in T5
    aligned_input: bool = False  # the input at each step's frame added to its embedding; not in T5
    aligned_semantic: bool = False  # the target's semantic token at each acoustic step's time, too
    # relative position buckets and the distance past which they share the last one;
    # 0 = the preset's (T5: 32 and 128)
    num_buckets: int = 0
    max_distance: int = 0


@dataclass(frozen=True)
class OptimConfig:
    name: str = "adamw"  # adamw | adafactor (torch's, as in T5X: relative step, update clipping)
    lr: float = 3e-4  # peak rate; Adafactor caps its own 1/sqrt(step) rate by it
    schedule: str = "constant"  # constant | cosine | rsqrt, each after a linear warm-up
    warmup_steps: int = 0
    min_lr_ratio: float = 0.1  # cosine: final rate as a share of the peak
    weight_decay: float = 0.0
    betas: tuple[float, ...] = (0.9, 0.98)  # AdamW only
    clip_norm: float = 1.0  # global gradient-norm clipping; 0 = off
    z_loss: float = 1e-4  # T5X's auxiliary loss on log Z, keeps logits from drifting


@dataclass(frozen=True)
class AugmentConfig:
    # Token-level only; audio-level augmentation (gain, stem remix, pitch/tempo) belongs
    # to tokenization.
    input_token_noise: float = 0.0  # share of input semantic ids replaced by random ones
    # share of clips whose whole input becomes the null input (`TokenLayout.null_input`):
    # the same model then also predicts without an input, for classifier-free guidance
    input_dropout: float = 0.0
    # share of the decoder's teacher-forcing inputs (its own past) replaced by random ids
    # valid at that position; the labels stay clean. A corrupted past cannot be trusted,
    # so the model must lean on the input to predict the next token.
    target_token_noise: float = 0.0


@dataclass(frozen=True)
class TrainConfig:
    out: str = "runs/train"  # run directory: config, metrics, plots, checkpoints
    seed: int = 0
    steps: int = 1000
    batch_size: int = 32  # global batch (all processes, all accumulation micro-batches)
    grad_accum: int = 1
    precision: str = "auto"  # auto (bf16 autocast on GPU, fp32 on CPU) | bf16 | fp32
    distributed: str = "ddp"  # ddp | fsdp (shards weights and optimizer state); >1 process only
    log_every: int = 10
    eval_every: int = 500
    eval_batches: int = 0  # validation batches per evaluation; 0 = the whole split
    checkpoint_every: int = 1000
    keep_last: int = 2  # newest checkpoints kept, besides the best by validation loss
    resume: bool = True  # continue from the run directory's last checkpoint if present
    # Fine-tuning: start from this checkpoint's weights (a checkpoint or run directory, or
    # bandmate:PRESET) instead of random ones; the optimizer and schedule start afresh.
    # Its model must equal this config's, and the tokens must come from its tokenizer.
    # A run that resumes from its own checkpoint ignores it.
    init: str = ""
    progress: bool = True  # tqdm progress bar on the main process
    # full: softmax over the whole vocabulary (the thesis) | valid: over the ids valid at
    # each position only, what constrained sampling draws from (faster; train/losses.py)
    softmax: str = "full"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelSection = field(default_factory=ModelSection)
    optim: OptimConfig = field(default_factory=OptimConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
