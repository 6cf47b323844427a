"""Training of the codec: reconstruction losses (time-domain L1 + multi-resolution
log-mel, optionally linear- and log-frequency spectral and phase-derivative terms) plus
the VQ commitment loss; codebooks start from k-means and follow EMAs.

The output directory is a loadable checkpoint at every save (config.json +
model.safetensors) and also holds what resuming needs:

    OUT/train/state.json            step, train config, optimizer groups, data RNG state
    OUT/train/optimizer.safetensors Adam moments and the torch RNG state
    OUT/train/curves.jsonl          one JSON line of metrics per logged step
    OUT/curves.png                  the curves (when matplotlib is installed)

Running again with the same OUT resumes from the last save; the loss continues exactly
as if the run had not stopped (same data order, same optimizer and RNG state). The
schedule, RNG state, curve records and plots are the training toolkit's
(bandmate.train.toolkit), shared with the T5's loop. A resume keeps the
saved settings except those of RESUMABLE, which only schedule the steps still to come:
e.g. `--steps 11000 --set vq_start_step=5000` on a plain-autoencoder run quantizes from
step 5000 on (k-means first), the way to pre-train an autoencoder and then quantize it.

`freeze_encoder` fine-tunes the decoder alone (with `init_from`): the encoder and the
quantizer stay as they were, so every audio file keeps exactly its codes and models
trained on this codec's tokens stay valid with the tuned decoder.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from bandmate.codec.checkpoint import (
    load_model,
    saved_settings,
    state_dict_to_tensors,
    write_checkpoint_dir,
    write_model_files,
)
from bandmate.codec.data import AudioPool, load_pools
from bandmate.codec.losses import (
    LogFrequencyLoss,
    MultiResolutionMelLoss,
    MultiResolutionSTFTLoss,
    PhaseDerivativeLoss,
)
from bandmate.codec.model import CodecConfig, CodecModel
from bandmate.config import from_dict, to_dict
from bandmate.data.reserved import dataset_soundfonts, refuse_reserved
from bandmate.errors import BandmateError
from bandmate.train.toolkit import (
    plot_series,
    read_records,
    restore_rng,
    rng_state,
    schedule_factor,
    series,
    set_lr,
    write_records,
)

log = logging.getLogger(__name__)

STATE_FILE = "train/state.json"
OPTIMIZER_FILE = "train/optimizer.safetensors"
CURVES_FILE = "train/curves.jsonl"
# Settings a resumed run may change: they schedule the remaining steps, not what was learned.
RESUMABLE = ("steps", "vq_start_step", "valid_every", "log_every", "save_every", "plot")
# What curves.png shows (log scale).
PLOTTED = ("loss/mel", "valid/mel", "loss/phase", "valid/phase", "loss/l1", "vq/commitment")


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one codec training run; saved with its checkpoints."""

    model: CodecConfig = field(default_factory=CodecConfig)
    steps: int = 5000  # optimizer steps in total
    batch_size: int = 16  # crops per step
    segment_seconds: float = 0.5  # length of a training crop
    learning_rate: float = 1e-3  # Adam peak rate
    warmup_steps: int = 200  # linear warm-up, then cosine decay to 10% of the peak
    betas: tuple[float, float] = (0.5, 0.9)  # Adam betas (EnCodec's)
    grad_clip: float = 1.0  # max global gradient norm
    mel_weight: float = 1.0  # multi-resolution log-mel loss
    stft_weight: float = 0.0  # linear-frequency log-STFT loss (FFT 4096 and 2048)
    logfreq_weight: float = 0.0  # log-frequency loss, 24 bands/octave (FFT 8192 and 4096)
    phase_weight: float = 0.0  # phase-derivative loss at the codec's frame STFT
    l1_weight: float = 0.1  # time-domain L1 loss
    commitment_weight: float = 1.0  # VQ commitment loss
    gain_db: float = 6.0  # random gain of each crop within +-gain_db (level robustness)
    vq_start_step: int = 0  # steps as a plain autoencoder before k-means + quantization
    freeze_encoder: bool = False  # train the decoder only: codes stay those of init_from
    kmeans_crops: int = 128  # crops whose latents initialize the codebooks
    kmeans_iters: int = 20  # Lloyd iterations of that k-means
    valid_crops: int = 16  # fixed validation crops (1 s each)
    valid_every: int = 250  # steps between validation passes
    log_every: int = 25  # steps between curve points
    save_every: int = 500  # steps between checkpoints
    plot: bool = True  # draw curves.png at every save (needs matplotlib)
    seed: int = 0  # seeds the weights, the data order and the k-means


def lr_at(step: int, config: TrainConfig) -> float:
    """The rate of the step after `step` steps: linear warm-up, then cosine decay to 10%
    of the peak (the toolkit's `cosine` schedule)."""
    # The codec counts its decay from 0 where the warm-up ends (the T5 from 1), so its
    # peak lasts two steps: kept, so that runs resume (and repeat) as they always did.
    position = step + 1 if step < config.warmup_steps else step
    factor = schedule_factor("cosine", position, config.steps, config.warmup_steps, 0.1)
    return config.learning_rate * factor


class Trainer:
    """Holds the model, losses, optimizer and data streams of one run."""

    def __init__(self, config: TrainConfig, train: AudioPool, valid: AudioPool, device: str):
        self.config = config
        self.device = torch.device(device)
        torch.manual_seed(config.seed)
        self.model = CodecModel(config.model).to(self.device)
        if config.freeze_encoder:
            self.model.encoder.requires_grad_(False)
            self.model.quantizer.requires_grad_(False)
        self.losses = MultiResolutionMelLoss(config.model.sample_rate_hz).to(self.device)
        self.stft_loss = MultiResolutionSTFTLoss().to(self.device)
        self.logfreq_loss = LogFrequencyLoss(config.model.sample_rate_hz).to(self.device)
        self.phase_loss = PhaseDerivativeLoss(config.model.hop_length).to(self.device)
        self.optimizer = torch.optim.Adam(
            self.trainable(), lr=config.learning_rate, betas=config.betas
        )
        self.train_pool = train
        self.rng = np.random.default_rng(config.seed)
        self.step = 0
        self.curves: list[dict[str, float]] = []
        valid_rng = np.random.default_rng(config.seed + 1)
        self.valid_batch = torch.from_numpy(
            valid.crops(valid_rng, config.valid_crops, self._length(1.0))
        )

    def trainable(self) -> list[torch.nn.Parameter]:
        """The parameters the optimizer updates (all but a frozen encoder's and quantizer's)."""
        return [p for p in self.model.parameters() if p.requires_grad]

    def _length(self, seconds: float) -> int:
        hop = self.config.model.hop_length
        return max(round(seconds * self.config.model.sample_rate_hz / hop), 1) * hop

    def next_batch(self) -> torch.Tensor:
        """Random crops with a random gain. Returns [B, S] on the device."""
        config = self.config
        crops = self.train_pool.crops(
            self.rng, config.batch_size, self._length(config.segment_seconds)
        )
        gains = 10 ** (self.rng.uniform(-config.gain_db, config.gain_db, (len(crops), 1)) / 20)
        crops = np.clip(crops * gains, -1.0, 1.0).astype(np.float32)
        return torch.from_numpy(crops).to(self.device)

    @torch.no_grad()
    def init_codebooks(self) -> None:
        """k-means on encoder outputs of fresh crops (at step `vq_start_step`)."""
        length = self._length(self.config.segment_seconds)
        crops = self.train_pool.crops(self.rng, self.config.kmeans_crops, length)
        latents = self.model.encoder(self.model.pad(torch.from_numpy(crops).to(self.device)))
        self.model.quantizer.init_kmeans(latents, self.config.kmeans_iters, self.config.seed)

    def train_step(self, batch: torch.Tensor) -> dict[str, float]:
        """One optimizer step on `batch` [B, S]. Returns slash-named metrics."""
        config = self.config
        self.model.train()
        if config.freeze_encoder:
            # eval mode: no BatchNorm statistics, codebook EMAs or dead-code restarts
            self.model.encoder.eval()
            self.model.quantizer.eval()
        set_lr(self.optimizer, lr_at(self.step, config))
        if self.step == config.vq_start_step:
            self.init_codebooks()
        quantize = self.step >= config.vq_start_step
        recon, _, commitment, stats = self.model(batch, quantize=quantize)
        mel = self.losses(recon, batch)
        l1 = (recon - batch).abs().mean()
        total = config.mel_weight * mel + config.l1_weight * l1
        total = total + config.commitment_weight * commitment
        metrics = {}
        if config.stft_weight > 0:
            stft = self.stft_loss(recon, batch)
            total = total + config.stft_weight * stft
            metrics["loss/stft"] = stft.item()
        if config.logfreq_weight > 0:
            logfreq = self.logfreq_loss(recon, batch)
            total = total + config.logfreq_weight * logfreq
            metrics["loss/logfreq"] = logfreq.item()
        if config.phase_weight > 0:
            phase = self.phase_loss(recon, batch)
            total = total + config.phase_weight * phase
            metrics["loss/phase"] = phase.item()
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.trainable(), config.grad_clip)
        self.optimizer.step()
        self.step += 1
        return {
            "loss/total": total.item(),
            "loss/mel": mel.item(),
            "loss/l1": l1.item(),
            "vq/commitment": commitment.item(),
            "grad_norm": float(grad_norm),
            "lr": lr_at(self.step - 1, config),
            **metrics,
            **stats,
        }

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mel and L1 losses of the fixed validation crops through the quantized codec."""
        self.model.eval()
        batch = self.valid_batch.to(self.device)
        if self.step <= self.config.vq_start_step:  # codebooks not initialized yet
            recon = self.model(batch, quantize=False)[0]
        else:
            recon = self.model.decode(self.model.encode(batch))[..., : batch.shape[-1]]
        return {
            "valid/mel": float(self.losses(recon, batch)),
            "valid/l1": float((recon - batch).abs().mean()),
            "valid/phase": float(self.phase_loss(recon, batch)),
        }


def save_training(trainer: Trainer, out: Path, extra: dict[str, Any]) -> None:
    """Write a loadable checkpoint plus the state needed to resume, atomically."""
    optimizer_state = trainer.optimizer.state_dict()

    def fill(tmp: Path) -> None:
        write_model_files(tmp, trainer.model, extra)
        (tmp / "train").mkdir()
        tensors = state_dict_to_tensors("optim", optimizer_state["state"])
        tensors.update({f"rng.{name}": state for name, state in rng_state().items()})
        save_file(tensors, str(tmp / OPTIMIZER_FILE))
        state = {
            "step": trainer.step,
            "config": to_dict(trainer.config),
            "param_groups": optimizer_state["param_groups"],
            "data_rng": trainer.rng.bit_generator.state,
        }
        (tmp / STATE_FILE).write_text(json.dumps(state, indent=1) + "\n")
        write_records(tmp / CURVES_FILE, trainer.curves)
        if trainer.config.plot:
            plot_series(series(trainer.curves), PLOTTED, tmp / "curves.png", "loss", log_y=True)

    write_checkpoint_dir(out, fill)


def read_train_state(out: Path) -> tuple[TrainConfig, int] | None:
    """The TrainConfig and step saved in OUT, or None when OUT holds no training state."""
    path = out / STATE_FILE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise BandmateError(f"{path}: malformed training state ({error.msg})") from None
    settings = dict(state["config"])
    if "model" in settings:
        settings["model"] = saved_settings(settings["model"], path)
    return from_dict(TrainConfig, settings, str(path)), int(state["step"])


def resumed_config(
    out: Path, saved: TrainConfig, step: int, requested: TrainConfig, changed: Collection[str]
) -> TrainConfig:
    """The saved config of a run resumed at `step`, with the RESUMABLE fields named in
    `changed` taken from `requested` (`steps` can only grow). Other changes are ignored
    with a warning: they would make the checkpoint's history a lie."""
    ignored = sorted(set(changed) - set(RESUMABLE))
    if ignored:
        log.warning("%s: resuming with its saved settings; ignoring %s", out, ", ".join(ignored))
    updates = {name: getattr(requested, name) for name in RESUMABLE if name in changed}
    updates["steps"] = max(requested.steps, saved.steps)
    start = updates.get("vq_start_step", saved.vq_start_step)
    if start != saved.vq_start_step:
        if step > saved.vq_start_step:
            raise BandmateError(
                f"{out}: the quantizer already started at step {saved.vq_start_step}; "
                "vq_start_step can no longer change"
            )
        if start < step:
            raise BandmateError(
                f"{out}: vq_start_step={start} is before the resume step {step} "
                "(k-means must run at a step still to come)"
            )
    return replace(saved, **updates)


def restore_training(trainer: Trainer, out: Path) -> None:
    """Load weights, optimizer, RNGs, step and curves saved in OUT into `trainer`."""
    state = json.loads((out / STATE_FILE).read_text())
    trainer.model.load_state_dict(load_model(out).state_dict())
    tensors = load_file(str(out / OPTIMIZER_FILE))
    rng = {
        name.removeprefix("rng."): tensors.pop(name)
        for name in list(tensors)
        if name.startswith("rng.")
    }
    if "torch" in rng:  # saved before the CPU state was named "cpu" (and CUDA's kept)
        rng["cpu"] = rng.pop("torch")
    restore_rng(rng)
    per_param: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        _, index, key = name.split(".", 2)
        per_param.setdefault(int(index), {})[key] = value
    trainer.optimizer.load_state_dict({"state": per_param, "param_groups": state["param_groups"]})
    trainer.rng.bit_generator.state = state["data_rng"]
    trainer.step = int(state["step"])
    trainer.curves = [row for row in read_records(out / CURVES_FILE) if row["step"] <= trainer.step]


def _averaged(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = rows[0].keys()
    return {k: float(np.mean([row[k] for row in rows])) for k in keys}


def _steps(trainer: Trainer, progress: bool) -> Iterator[int]:
    bar = tqdm(
        range(trainer.step, trainer.config.steps),
        initial=trainer.step,
        total=trainer.config.steps,
        disable=not progress,
        desc="codec",
        mininterval=10.0,
    )
    for step in bar:
        yield step
        if trainer.curves:
            bar.set_postfix(mel=f"{trainer.curves[-1]['loss/mel']:.3f}", refresh=False)


def train_codec(
    data: str | Path,
    out: str | Path,
    config: TrainConfig,
    device: str = "cpu",
    progress: bool = True,
    init_from: str | Path | None = None,
    changed: Collection[str] = RESUMABLE,
) -> CodecModel:
    """Train (or resume) a codec on every audio file under `data`; checkpoints go to `out`.

    Args:
        data: folder of audio files, read recursively, any rate and channel count.
        out: checkpoint directory; when it holds training state the run resumes there
            with its saved config, except the RESUMABLE fields named in `changed`.
        config: settings of a fresh run.
        device: torch device, e.g. "cpu" or "cuda".
        progress: show a tqdm bar.
        init_from: a codec checkpoint whose weights and codebooks start a fresh run
            (fine-tuning on your own audio); its model config replaces `config.model`.
        changed: the fields of `config` the user set (on a resume only RESUMABLE ones
            apply); by default all of them.
    Returns:
        the trained model (also saved in `out`).
    """
    out = Path(out)
    # Reserved timbres are for testing only, for the codec as for the models.
    refuse_reserved(dataset_soundfonts(data), str(data), "codec train")
    saved = read_train_state(out)
    if saved is None and out.exists() and any(out.iterdir()):
        raise BandmateError(f"{out}: exists and holds no codec training state; pick a new --out")
    if saved is not None:
        config = resumed_config(out, *saved, config, changed)
    elif config.freeze_encoder and init_from is None:
        raise BandmateError(
            f"{out}: freeze_encoder keeps the codes of a trained codec; name it with --init-from"
        )
    start = load_model(init_from) if init_from is not None and saved is None else None
    if start is not None:
        # Codebooks come with the weights: no k-means, the quantizer runs from step 0.
        config = replace(config, model=start.config, vq_start_step=-1)
    train_pool, valid_pool = load_pools(data, config.model.sample_rate_hz)
    trainer = Trainer(config, train_pool, valid_pool, device)
    if saved is not None:
        restore_training(trainer, out)
        log.info("resuming %s at step %d of %d", out, trainer.step, config.steps)
    elif start is not None:
        trainer.model.load_state_dict(start.state_dict())
        log.info("starting from the weights of %s", init_from)
    extra = {"train": {"data": str(data), "audio_minutes": round(train_pool.seconds / 60, 2)}}
    run_loop(trainer, out, extra, progress)
    return trainer.model.eval()


def run_loop(trainer: Trainer, out: Path, extra: dict[str, Any], progress: bool) -> None:
    """Steps until `config.steps`, logging, validating and saving on schedule."""
    config = trainer.config
    pending: list[dict[str, float]] = []
    started = time.monotonic()
    for _ in _steps(trainer, progress):
        pending.append(trainer.train_step(trainer.next_batch()))
        step = trainer.step
        if step % config.log_every == 0 or step == config.steps:
            row = {"step": float(step), **_averaged(pending)}
            if step % config.valid_every == 0 or step == config.steps:
                row.update(trainer.validate())
            row["elapsed_s"] = time.monotonic() - started
            trainer.curves.append(row)
            pending = []
        if step % config.save_every == 0 or step == config.steps:
            extra["train"]["steps"] = step
            save_training(trainer, out, extra)
