"""The evaluation report: metrics.json, clips.csv, examples.json and a static index.html.

The HTML needs no server: audio players and images point at files inside the report
folder with relative paths, so the folder can be opened from the file system or zipped.
`bandmate listen` reads examples.json for its blind trials.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bandmate.io import atomic_path, atomic_write_text

PLAYERS = (
    "generated",
    "kept",
    "original",
    "codec",
    "rule",
    "input",
    "input+generated",
    "input+original",
)
SUMMARY_KEYS = (
    "token_accuracy",
    "token_accuracy/semantic",
    "token_accuracy/acoustic",
    "token_loss",
    "input_gain",
    "outcome/music",
    "outcome/noise",
    "fit/chroma",
    "fit/rhythm",
    "fit/rhythm_capped",
    "mirror/rhythm",
    "panel/role_plausible",
    "panel/beat_f",
    "panel/key",
    "panel/chords",
    "panel/realism/frechet",
    "panel/realism/two_sample_accuracy",
    "n_clips",
)
# The figures on each example's card: its fits and the single try's panel.
EXAMPLE_KEYS = (
    "fit/chroma",
    "fit/rhythm",
    "panel/role_plausible",
    "panel/beat_f",
    "panel/key",
    "panel/chords",
)


def spectrogram_png(path: Path, wavs: Mapping[str, np.ndarray], sample_rate_hz: int) -> None:
    """Log-mel spectrograms of a few signals stacked in one PNG."""
    import librosa
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(wavs), 1, figsize=(8, 1.6 * len(wavs)), sharex=True)
    for ax, (name, wav) in zip(np.atleast_1d(axes), wavs.items(), strict=True):
        mel = librosa.feature.melspectrogram(y=wav, sr=sample_rate_hz, n_mels=64)
        ax.imshow(
            librosa.power_to_db(mel, ref=1.0, top_db=80),
            origin="lower",
            aspect="auto",
            cmap="magma",
            extent=(0, wav.size / sample_rate_hz, 0, 64),
        )
        ax.set_ylabel(name, fontsize=8)
        ax.set_yticks([])
    np.atleast_1d(axes)[-1].set_xlabel("seconds")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def without_nan(value: Any) -> Any:
    """NaN (an undefined metric, e.g. a fit without a scale) as null: valid JSON."""
    if isinstance(value, dict):
        return {k: without_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_nan(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def _strict_json(value: Any) -> str:
    # allow_nan=False: browsers' JSON.parse rejects NaN, so the report pages could not read it.
    return json.dumps(without_nan(value), indent=2, default=float, allow_nan=False) + "\n"


def write_tables(
    out: Path,
    metrics: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    examples: Sequence[Mapping[str, Any]],
) -> None:
    """metrics.json, clips.csv (one row per clip) and examples.json."""
    atomic_write_text(out / "metrics.json", _strict_json(metrics))
    atomic_write_text(out / "examples.json", _strict_json({"examples": list(examples)}))
    if rows:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(out / "clips.csv", buffer.getvalue())


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "–" if value != value else f"{value:.3f}"  # NaN shows as a dash
    return html.escape(str(value))


def _summary_table(summaries: Mapping[str, Mapping[str, Any]]) -> str:
    # A break opportunity after each slash keeps long metric names from widening the table.
    head = "".join(
        f"<th>{html.escape(k).replace('/', '/<wbr>')}</th>" for k in ("system", *SUMMARY_KEYS)
    )
    body = "".join(
        "<tr>"
        + f"<td>{html.escape(name)}</td>"
        + "".join(f"<td>{_fmt(values.get(k, float('nan')))}</td>" for k in SUMMARY_KEYS)
        + "</tr>"
        for name, values in summaries.items()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _example_card(example: Mapping[str, Any]) -> str:
    files = example["files"]
    players = "".join(
        f"<figure><figcaption>{html.escape(name)}</figcaption>"
        f'<audio controls preload="none" src="{html.escape(files[name])}"></audio></figure>'
        for name in PLAYERS
        if name in files
    )
    figures = " · ".join(f"{k} {_fmt(example.get(k))}" for k in EXAMPLE_KEYS if k in example)
    image = (
        f'<img alt="spectrograms" src="{html.escape(example["spectrogram"])}">'
        if example.get("spectrogram")
        else ""
    )
    return (
        f'<section class="example"><h3>{html.escape(example["id"])} — '
        f"{html.escape(str(example['song']))} @ {example['start_s']:.1f} s "
        f'<span class="tag {html.escape(example["outcome"])}">'
        f"{html.escape(example['outcome'])}</span></h3>"
        f'<p class="figures">{figures}</p><div class="players">{players}</div>{image}</section>'
    )


STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #ccc;padding:.3rem .5rem}
th{background:#f3f3f3;max-width:7rem;font-weight:600}
.curves{display:flex;flex-wrap:wrap;gap:.5rem}.curves img{width:350px}
.players{display:flex;flex-wrap:wrap;gap:.5rem}
figure{margin:0}figcaption{font-size:.75rem;color:#555}audio{width:200px}
.example{border-top:1px solid #ddd;padding:.5rem 0}.example img{max-width:100%}
.tag{font-size:.75rem;padding:.1rem .4rem;border-radius:.3rem;color:#fff}
.music{background:#2a7}.noise{background:#c63}.silence{background:#888}
.figures{font-size:.85rem;color:#444}
"""


def write_html(
    out: Path,
    title: str,
    summaries: Mapping[str, Mapping[str, Any]],
    examples: Sequence[Mapping[str, Any]],
    curves: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> Path:
    """index.html: summary table, training curves, and one card per example."""
    curve_html = "".join(f'<img alt="training curve" src="{html.escape(c)}">' for c in curves)
    note_html = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<h2>Summary</h2>{_summary_table(summaries)}<ul>{note_html}</ul>"
        + (f"<h2>Training curves</h2><div class='curves'>{curve_html}</div>" if curves else "")
        + f"<h2>Examples ({len(examples)})</h2>"
        + "".join(_example_card(e) for e in examples)
        + "</body></html>"
    )
    atomic_write_text(out / "index.html", page)
    return out / "index.html"
