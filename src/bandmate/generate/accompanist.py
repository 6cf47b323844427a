"""The accompanist: a checkpoint's model, layout, semantic tokenizer and codec together,
turning input audio into accompaniment audio of the same length.

Letters: B batch (the candidates), S samples, F frames, K codebooks.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from bandmate.config import Count, NonNegative, check_fields
from bandmate.data.audio import resample
from bandmate.errors import BandmateError
from bandmate.generate.decode import forced_prefix, generate_targets
from bandmate.generate.defaults import DEFAULT_BATCHES, DEFAULT_CANDIDATES
from bandmate.generate.sampling import SamplingConfig
from bandmate.generate.windows import cut, stitch, window_start_seconds
from bandmate.model.t5 import T5
from bandmate.runtime import cpu_threads, pick_device
from bandmate.synth.score import Part
from bandmate.tokens.interfaces import AcousticCodec, SemanticTokenizer
from bandmate.tokens.layout import TokenLayout

log = logging.getLogger(__name__)
SMALL_MODEL_PARAMETERS = 50_000_000


@dataclass(frozen=True)
class GenerateConfig:
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    # Accompaniments sampled per input at a time; the best is kept. None: the checkpoint's
    # own number (model.json meta `candidates`, `bandmate export --candidates`), else
    # DEFAULT_CANDIDATES; `Accompanist.settings` fills it in.
    candidates: Count | None = 1
    seed: int = 0
    # windows of long inputs overlap by this much (at most half a window is used)
    overlap_seconds: NonNegative = 2.0
    # While no candidate so far is judged music, `candidates` more are drawn, up to this
    # many in all (None: `candidate_batches` times `candidates`); see
    # generate/choice.draw_candidates.
    max_candidates: Count | None = None
    candidate_batches: Count = 1
    # events checkpoints only: the SoundFont that plays the notes ("": TimGM6mb, inside
    # pretty_midi), and instruments as NAME=PROGRAM (e.g. bass=34; generate/events.py)
    soundfont: str = ""
    programs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_fields(self)  # a FieldError (a ValueError) naming the field
        if self.max_candidates is not None and self.max_candidates < (self.candidates or 1):
            raise ValueError(
                f"max_candidates ({self.max_candidates}) must be at least "
                f"candidates ({self.candidates or 1})"
            )

    @property
    def batch(self) -> int:
        """Candidates drawn at a time (once `Accompanist.settings` has filled them in)."""
        if self.candidates is None:
            raise ValueError("candidates not settled: pass the config through Accompanist.settings")
        return self.candidates

    @property
    def candidate_limit(self) -> int:
        """The most candidates drawn for one input."""
        return self.max_candidates or self.batch * self.candidate_batches


@dataclass
class Timings:
    """Seconds spent per stage (for generation.json and the benchmark)."""

    tokenize: float = 0.0
    decode: float = 0.0
    codec: float = 0.0

    def __add__(self, other: Timings) -> Timings:
        return Timings(
            self.tokenize + other.tokenize, self.decode + other.decode, self.codec + other.codec
        )

    def as_dict(self) -> dict[str, float]:
        return {"tokenize_s": self.tokenize, "decode_s": self.decode, "codec_decode_s": self.codec}


class Accompanist:
    """Model + layout + tokenizers; see `accompany`."""

    def __init__(
        self,
        model: T5,
        layout: TokenLayout,
        semantic: SemanticTokenizer,
        codec: AcousticCodec,
        device: torch.device,
        source: str = "",
        manifest: dict[str, Any] | None = None,
        guidance: float = 0.0,
        candidates: int = DEFAULT_CANDIDATES,
    ) -> None:
        if layout.kind != "events" and (codec.num_codebooks, codec.codebook_size) != (
            layout.num_codebooks,
            layout.codebook_size,
        ):
            raise BandmateError(
                f"{source or 'checkpoint'}: codec {codec.spec} has {codec.num_codebooks}x"
                f"{codec.codebook_size} codes but the model was trained on "
                f"{layout.num_codebooks}x{layout.codebook_size}"
            )
        self.model, self.layout, self.semantic, self.codec = model, layout, semantic, codec
        self.device, self.source = device, source
        self.manifest = manifest or {}  # the token set's manifest (preset, dataset, specs)
        self.guidance = guidance  # the checkpoint's own guidance weight (model.json meta)
        self.candidates = candidates  # and its own number of candidates at a time
        # events checkpoints: the last `accompany` call's candidates as parts (notes in
        # seconds), and the beat grid they lie on (for the MIDI file's tempo)
        self.drawn_parts: list[list[Part]] = []
        self.drawn_grid: np.ndarray = np.zeros(0)

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path, device: str = "auto") -> Accompanist:
        """A shipped model (`bandmate:bass-to-drums`, `bandmate:drums-to-bass`,
        `bandmate:bass-to-instrumental`, `bandmate:vocals-to-instrumental`, and the other
        kind of a preset as `bandmate:PRESET-codec` or `bandmate:PRESET-events`),
        or a checkpoint or training-run directory."""
        return cls.from_checkpoint(name_or_path, device)

    def generate(
        self, audio: np.ndarray, sample_rate_hz: int, config: GenerateConfig | None = None
    ) -> tuple[np.ndarray, int]:
        """The accompaniment of one recording, as `bandmate generate` writes it to
        accompaniment.wav for the same settings and seed (candidates drawn and chosen as
        generate's defaults do, unless `config` says otherwise).

        Args:
            audio: the input part, float, any rate and length: [S], [C, S], or [S, C] as
                soundfile reads it (the longer axis is taken as time).
            sample_rate_hz: its rate.
            config: sampling settings; default: generate's (this checkpoint's own guidance
                and candidates, seed 0).
        Returns:
            (accompaniment [S] float32 peak-normalised, at `sample_rate_hz`, the input's
            length; `sample_rate_hz`).
        """
        from bandmate.data.audio import peak_normalize, to_mono
        from bandmate.generate.choice import accompany_input  # it builds on this module

        config = config or GenerateConfig(candidates=None, candidate_batches=DEFAULT_BATCHES)
        wav = np.asarray(audio, dtype=np.float32)
        if wav.ndim == 2 and wav.shape[0] > wav.shape[1]:
            wav = wav.T  # soundfile's [S, C]
        mono = to_mono(wav)
        accompaniment, _ = accompany_input(self, mono, sample_rate_hz, config)
        return peak_normalize(accompaniment), sample_rate_hz

    @classmethod
    def from_checkpoint(cls, directory: str | Path, device: str = "auto") -> Accompanist:
        """Load a checkpoint directory with the tokenizers it was trained with."""
        from bandmate.checkpoint import load_checkpoint
        from bandmate.tokens.codecs import codec_from_spec
        from bandmate.tokens.semantic import load_semantic

        torch_device = pick_device(device)
        model, layout, meta = load_checkpoint(directory, torch_device)
        if layout.kind == "events":
            from bandmate.generate.events import require_player

            require_player()
        manifest = meta.get("manifest") or {}
        codec_spec = manifest.get("codec", {}).get("spec") or manifest.get("codec_spec")
        if not codec_spec or meta.get("tokenizer_dir") is None:
            raise BandmateError(f"{directory}: checkpoint lacks its codec spec or tokenizer state")
        # The manifest names the state file (or, in older token sets, its folder).
        state = Path(meta["tokenizer_dir"]) / manifest.get("semantic", {}).get("state", "")
        semantic = load_semantic(state if state.is_dir() else state.parent)
        codec = codec_from_spec(codec_spec)
        guidance = float(meta.get("guidance", 0.0))
        candidates = int(meta.get("candidates", DEFAULT_CANDIDATES))
        return cls(
            model,
            layout,
            semantic,
            codec,
            torch_device,
            str(directory),
            manifest,
            guidance,
            candidates,
        )

    def settings(self, config: GenerateConfig) -> GenerateConfig:
        """`config` with this checkpoint's guidance and candidates where the config leaves
        them open, and the limit on candidates made explicit (so a report names what was
        used); a limit below the candidates drawn at a time is a `BandmateError`."""
        sampling = config.sampling.with_default_guidance(self.guidance)
        candidates = config.candidates or self.candidates
        asked = config.max_candidates
        if asked is not None and asked < candidates:  # before GenerateConfig's ValueError
            raise BandmateError(
                f"{self.source or 'checkpoint'}: max candidates ({asked}) is below the "
                f"{candidates} candidates drawn at a time"
            )
        settled = replace(config, sampling=sampling, candidates=candidates)
        return replace(settled, max_candidates=settled.candidate_limit)

    @property
    def clip_seconds(self) -> float:
        return self.layout.semantic_frames / self.semantic.frame_rate_hz

    def overlap_seconds(self, config: GenerateConfig) -> float:
        """The window overlap used: the configured one, at most half a clip."""
        return min(config.overlap_seconds, self.clip_seconds / 2)

    def _semantic_ids(self, wav: np.ndarray) -> np.ndarray:
        """One window of input audio at the semantic rate -> raw ids [1, F_sem]."""
        ids = self.semantic.encode(torch.from_numpy(wav)[None]).cpu().numpy()
        frames = self.layout.semantic_frames
        return np.pad(ids[:, :frames], ((0, 0), (0, max(frames - ids.shape[1], 0))), mode="edge")

    def _decode_window(
        self,
        ids: np.ndarray,
        forced: np.ndarray | None,
        config: GenerateConfig,
        generator: torch.Generator,
    ) -> np.ndarray:
        encoder = torch.from_numpy(self.layout.encoder_tokens(ids)).to(self.device)
        encoder = encoder.expand(config.batch, -1)
        force = torch.from_numpy(forced).to(self.device) if forced is not None else None
        targets = generate_targets(
            self.model, self.layout, encoder, config.sampling, generator, force
        )
        return targets.cpu().numpy()

    def decode_threads(self) -> int | None:
        """Intra-op threads for decoding: 1 for a small model on the CPU, where handing
        tiny ops between threads costs more than it saves (benchmarks/generate_speed.py,
        tiny preset, 5 s clip, 2 cores with one busy: 1.0 s on one thread, 68 s on two);
        None (torch's default) otherwise."""
        size = sum(p.numel() for p in self.model.parameters())
        return 1 if self.device.type == "cpu" and size < SMALL_MODEL_PARAMETERS else None

    def generator(self, config: GenerateConfig) -> torch.Generator:
        """The random stream `config.seed` names, on this accompanist's device."""
        return torch.Generator(self.device).manual_seed(config.seed)

    def accompany(
        self,
        wav: np.ndarray,
        sample_rate_hz: int,
        config: GenerateConfig,
        generator: torch.Generator | None = None,
    ) -> tuple[np.ndarray, Timings, int]:
        """Accompaniment candidates for one mono input (see `_accompany`)."""
        generator = generator if generator is not None else self.generator(config)
        with cpu_threads(self.decode_threads()):
            return self._accompany(wav, sample_rate_hz, self.settings(config), generator)

    def _accompany(
        self,
        wav: np.ndarray,
        sample_rate_hz: int,
        config: GenerateConfig,
        generator: torch.Generator,
    ) -> tuple[np.ndarray, Timings, int]:
        """Accompaniment candidates for one mono input.

        Args:
            wav: mono input [S] float32.
            sample_rate_hz: its rate.
            config: sampling, candidates (this call's batch), window overlap.
            generator: the random stream (`generator(config)`; a second call that goes
                on with the same one draws other candidates).
        Returns:
            (candidates [B, S'] at the codec's rate covering the input's duration,
             timings, number of windows).
        """
        if self.layout.kind == "events":
            return self._accompany_events(wav, sample_rate_hz, config, generator)
        timings = Timings()
        duration = wav.size / sample_rate_hz
        sem_rate, codec_rate = self.semantic.sample_rate_hz, self.codec.sample_rate_hz
        source = resample(wav, sample_rate_hz, sem_rate)
        overlap = self.overlap_seconds(config)
        starts = window_start_seconds(duration, self.clip_seconds, overlap)
        out = np.zeros((config.batch, round(duration * codec_rate)), dtype=np.float32)
        overlap_sem = round(overlap * self.semantic.frame_rate_hz)
        overlap_ac = round(overlap * self.codec.frame_rate_hz)
        previous: np.ndarray | None = None
        # A bar for long inputs only: evaluation's one-window clips have their own.
        bar = tqdm(starts, desc="windows", unit="window", disable=len(starts) < 2, leave=False)
        for index, start in enumerate(bar):
            t0 = time.perf_counter()
            ids = self._semantic_ids(
                cut(source, round(start * sem_rate), round(self.clip_seconds * sem_rate))
            )
            t1 = time.perf_counter()
            forced = None
            if previous is not None and overlap_sem > 0:
                sem, ac = self.layout.split_target(previous)
                forced = forced_prefix(self.layout, sem[:, -overlap_sem:], ac[:, :, -overlap_ac:])
            previous = self._decode_window(ids, forced, config, generator)
            t2 = time.perf_counter()
            _, codes = self.layout.split_target(previous)
            with torch.no_grad():
                audio = self.codec.decode(torch.from_numpy(codes)).float()
            stitch(
                out,
                audio.cpu().numpy(),
                round(start * codec_rate),
                round(overlap * codec_rate) if index else 0,
            )
            timings.tokenize += t1 - t0
            timings.decode += t2 - t1
            timings.codec += time.perf_counter() - t2
            log.debug("window %d/%d at %.1f s done", index + 1, len(starts), start)
        return out, timings, len(starts)

    def _accompany_events(
        self,
        wav: np.ndarray,
        sample_rate_hz: int,
        config: GenerateConfig,
        generator: torch.Generator,
    ) -> tuple[np.ndarray, Timings, int]:
        """`_accompany` for an events checkpoint: notes per window on the input's beats,
        each window starting from the previous one's notes in the overlap, then played
        by the SoundFont at the codec's rate (so that the choice and evaluation see audio
        as from any checkpoint). The notes are kept in `drawn_parts`."""
        from bandmate.generate import events as ev
        from bandmate.synth.render import default_soundfont

        soundfont = config.soundfont or str(default_soundfont())
        programs = ev.parse_programs(list(config.programs))
        timings, duration = Timings(), wav.size / sample_rate_hz
        t0 = time.perf_counter()
        grid = ev.beat_grid(wav, sample_rate_hz, duration)
        sem_rate = self.semantic.sample_rate_hz
        source = resample(wav, sample_rate_hz, sem_rate)
        starts = window_start_seconds(duration, self.clip_seconds, self.overlap_seconds(config))
        families = ev.target_families(self.manifest)
        notes: list[list[ev.Note]] = [[] for _ in range(config.batch)]
        covered = 0  # grid beats before this one are decided
        timings.tokenize += time.perf_counter() - t0
        bar = tqdm(starts, desc="windows", unit="window", disable=len(starts) < 2, leave=False)
        for start in bar:
            t0 = time.perf_counter()
            ids = self._semantic_ids(
                cut(source, round(start * sem_rate), round(self.clip_seconds * sem_rate))
            )
            window = ev.window_on_grid(grid, start, self.clip_seconds)
            forced = [ev.overlap_prefix(self.layout, n, window, covered) for n in notes]
            t1 = time.perf_counter()
            encoder = torch.from_numpy(self.layout.encoder_tokens(ids)).to(self.device)
            drawn = ev.sample_events(
                self.model, self.layout, encoder.expand(config.batch, -1), window,
                self.semantic.frame_rate_hz, config.sampling, generator, families, forced,
            )  # fmt: skip
            for row, candidate in enumerate(notes):
                new = ev.window_notes(self.layout, drawn[row], window)
                candidate += [n for n in new if n.onset_beats >= covered]
            covered = max(covered, window.first_beat + len(window.beats_s))
            timings.tokenize += t1 - t0
            timings.decode += time.perf_counter() - t1
        t2 = time.perf_counter()
        rate = self.codec.sample_rate_hz
        self.drawn_parts = [ev.to_parts(n, grid, programs, duration) for n in notes]
        self.drawn_grid = grid
        out = np.stack([
            ev.render_parts(parts, round(duration * rate), rate, soundfont)
            for parts in self.drawn_parts
        ])  # fmt: skip
        timings.codec += time.perf_counter() - t2
        return out, timings, len(starts)
