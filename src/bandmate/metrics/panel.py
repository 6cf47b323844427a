"""The judge panel: third-party MIR models that `generate`'s candidate choice never uses.

Per clip and system (a generated part or a baseline), against the clip's input:
- `role_plausible`: 1 if the part is the instrument it should be (`metrics.role`);
- `beat_f`: mir_eval beat F-measure between madmom's beats of the input and of the part;
- `key`: mir_eval weighted key score between madmom's key of the input and of
  input + part (pitched inputs and pitched targets only: drums have no key, and drums
  added to a bass line do not change its key);
- `chords`: mir_eval chord agreement (majmin) of input + part against input + original
  (pitched targets only).
Over a whole run, `realism` (`metrics.realism`): how far each system's parts sit from
real parts of the role (Fréchet distance of frame features, and a classifier two-sample
test accuracy, 0.5 = indistinguishable): the system's parts of the even clips against
the original parts of the odd clips, so that the originals' own figure (real against
real) is the floor and the codec's (the originals through the codec) the ceiling.

A silent, non-finite or empty part fails every figure (0), never the evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bandmate.metrics.agreement import InputAnalysis, analyse_input, score_part
from bandmate.metrics.mir import PanelRole
from bandmate.metrics.realism import realism
from bandmate.metrics.role import role_plausible


@dataclass
class Panel:
    """The panel for one run: the role the parts should play, and whether the input
    itself is pitched (a drum input has no key: madmom's key model names one anyway, so
    `panel/key` would score noise)."""

    role: PanelRole
    pitched: bool

    def analyse(self, audio: Mapping[str, np.ndarray], sample_rate_hz: int) -> InputAnalysis:
        """The clip's input beats and key, and chords of input + original (pitched targets
        only: drums added to a part do not change its chords). `audio`: mono [S] clips of
        one length keyed by system, `input` and `original` among them."""
        original = audio["original"] if self.role != "drums" else None
        return analyse_input(audio["input"], sample_rate_hz, original)

    def clip(
        self, audio: Mapping[str, np.ndarray], sample_rate_hz: int, analysis: InputAnalysis
    ) -> dict[str, Any]:
        """`panel/<system>/<figure>` of every system in `audio` but the input."""
        row: dict[str, Any] = {}
        for system, part in audio.items():
            if system == "input":
                continue
            prefix = f"panel/{system}/"
            plausible, _ = role_plausible(part, sample_rate_hz, self.role)
            row[prefix + "role_plausible"] = float(plausible)
            scores = score_part(analysis, audio["input"], part, sample_rate_hz).as_dict()
            # Key agreement means something only between pitched parts: drums added to a
            # bass line do not move its key, and a drum input has none.
            if not self.pitched or self.role == "drums":
                scores.pop("panel/key")
            row.update({prefix + k.removeprefix("panel/"): v for k, v in scores.items()})
        return row

    def realism(
        self, parts: Mapping[str, Sequence[np.ndarray]], sample_rate_hz: int, seed: int = 0
    ) -> dict[str, dict[str, float]]:
        """`realism` of each system's parts on the even clips against the original parts
        on the odd clips: every system, the originals included, is compared with real
        parts of other songs, so the figures compare across systems (against all clips,
        the codec's copies of the very same parts would look closer than any model can
        get). The originals' own figure is what two sets of real parts give."""
        reference = list(parts["original"])[1::2]
        return {
            system: realism(list(wavs)[0::2], reference, sample_rate_hz, seed)
            for system, wavs in parts.items()
            if system not in ("input", "shuffled")  # shuffled parts are other clips' originals
        }


def add_realism(metrics: dict[str, Any], figures: Mapping[str, Mapping[str, float]]) -> None:
    """Put each system's realism figures into metrics.json's shape: `single/...`, the
    unprefixed single-try keys, `kept/...`, and each baseline's own table."""
    for system, values in figures.items():
        keyed = {f"panel/realism/{name}": value for name, value in values.items()}
        if system in metrics["baselines"]:
            metrics["baselines"][system].update(keyed)
        elif system in ("single", "kept"):
            metrics.update({f"{system}/{k}": v for k, v in keyed.items()})
            if system == "single":
                metrics.update(keyed)
