"""HTML of the listening test's pages. Every value from outside is escaped here.

The pages hold no inline script or style (the server's Content-Security-Policy forbids
them); behaviour lives in static/listen.js, looks in static/listen.css.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

from bandmate.evaluate.listen.report import OUTCOMES, Trial

SYSTEM_NOTES = {
    "generated": "the model's accompaniment",
    "original": "the song's real accompaniment",
    "shuffled": "another song's accompaniment",
}
OUTCOME_CHOICES = (
    ("music", "Music", "Notes or beats that make up an accompaniment"),
    ("silence", "Silence", "Nothing, or almost nothing, is added to the part"),
    ("noise", "Noise", "Hiss, buzz, crackle or a shapeless texture"),
)
FIT_LABELS = ("Not at all", "Poorly", "Somewhat", "Well", "Perfectly")
RATER_HELP = "1–40 letters, digits, '.', '_' or '-'; start with a letter or digit"


def page(title: str, body: str, rater: str | None = None) -> str:
    """A whole HTML document around `body` (already HTML)."""
    who = f'<span class="who">Rater <b>{escape(rater)}</b></span>' if rater else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · bandmate listening test</title>
<link rel="stylesheet" href="/static/listen.css"></head>
<body><header class="top">
<a class="brand" href="/">bandmate <span>listening test</span></a>{who}</header>
<main>{body}</main>
<script src="/static/listen.js"></script></body></html>
"""


def welcome_page(n_trials: int, error: str = "", rater: str = "") -> str:
    """The start page: what the test is, what to do, and the rater id field."""
    minutes = max(1, round(n_trials * 25 / 60))
    problem = f'<p class="status error">{escape(error)}</p>' if error else ""
    body = f"""<section class="card">
<h1>Does the band fit the part?</h1>
<p class="lead">You will hear {n_trials} short clips. Each is a recorded part (drums, bass or
voice) with an accompaniment played along with it. Some accompaniments were made by a
computer, some by people; you are not told which.</p>
<ol class="steps">
<li><b>Play</b> the clip, as often as you like. Headphones in a quiet room work best.</li>
<li>Say what the accompaniment <b>sounds like</b>: music, silence or noise.</li>
<li>Rate how well it <b>fits</b> the part, from 1 (not at all) to 5 (perfectly).</li>
</ol>
<p>It takes about {minutes} minutes. Each answer is saved at once: you can stop and come
back later with the same name to continue where you left off.</p>
<form class="start" method="get" action="/rate">
<label for="rater">Your name or rater id</label>
<div class="row"><input id="rater" name="rater" required maxlength="40"
 pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{{0,39}}" placeholder="e.g. ana" autocomplete="off"
 value="{escape(rater)}">
<button type="submit" class="primary">Start listening</button></div>
<p class="hint">{escape(RATER_HELP)}</p>{problem}
</form></section>"""
    return page("Welcome", body)


def trial_page(rater: str, trial: Trial, position: int, total: int) -> str:
    """One trial: the player and the two questions. `position` is 1-based."""
    outcome_choices = "".join(
        f'<label class="choice"><input type="radio" name="outcome" value="{value}" required>'
        f'<span class="title">{title}</span><span class="hint">{hint}</span></label>'
        for value, title, hint in OUTCOME_CHOICES
    )
    fit_choices = "".join(
        f'<label class="grade"><input type="radio" name="fit" value="{grade}" required>'
        f'<span class="num">{grade}</span><span class="hint">{label}</span></label>'
        for grade, label in enumerate(FIT_LABELS, start=1)
    )
    body = f"""<section class="card">
<div class="progress"><span>Clip {position} of {total}</span>
<progress value="{position - 1}" max="{total}"></progress></div>
<h1>Listen, then rate the accompaniment</h1>
<div class="player">
<button id="play" class="play" type="button" aria-label="Play"><span class="icon"></span></button>
<div class="track"><progress id="seek" value="0" max="1"></progress>
<span id="time" class="time">0:00</span></div></div>
<audio id="audio" preload="auto" src="/audio/{escape(trial.trial_id)}"></audio>
<form id="rating" data-rater="{escape(rater)}" data-trial="{escape(trial.trial_id)}">
<fieldset><legend><span class="q">1</span> What does the accompaniment sound like?</legend>
<div class="choices">{outcome_choices}</div></fieldset>
<fieldset><legend><span class="q">2</span> How well does it fit the part?</legend>
<div class="scale">{fit_choices}</div></fieldset>
<div class="actions"><p id="status" class="status" role="status">Play the clip to begin.</p>
<button id="submit" type="submit" class="primary" disabled>Save and continue</button></div>
</form>
<p class="keys">Keys: <kbd>space</kbd> play/pause · <kbd>M</kbd> <kbd>S</kbd> <kbd>N</kbd> sound ·
<kbd>1</kbd>–<kbd>5</kbd> fit · <kbd>enter</kbd> save</p></section>"""
    return page(f"Clip {position} of {total}", body, rater)


def done_page(rater: str, total: int) -> str:
    """Shown once a rater has rated every trial."""
    body = f"""<section class="card center">
<h1>Thank you!</h1>
<p class="lead">You have rated all {total} clips. Your answers are saved.</p>
<p><a class="button" href="/results">See the results so far</a></p></section>"""
    return page("Done", body, rater)


def error_page(message: str) -> str:
    body = f"""<section class="card center"><h1>Something is not right</h1>
<p class="lead">{escape(message)}</p><p><a class="button" href="/">Back to the start</a></p>
</section>"""
    return page("Error", body)


def rate_url(rater: str) -> str:
    return f"/rate/{quote(rater)}"


def results_page(summary: dict[str, Any]) -> str:
    """Per-system fit means with 95% CIs, outcome shares, and agreement with the automatic
    outcome classes (the dict of stats.summarize)."""
    systems = summary["systems"]
    body = f"""<section class="card wide">
<h1>Results</h1>
<p class="lead">{summary["n_ratings"]} ratings from {summary["n_raters"]} raters on
{summary["n_trials"]} clips. <a href="/results.csv" download>Download all ratings (CSV)</a></p>
<h2>How well does the accompaniment fit the part?</h2>
<p class="hint">Mean rating from 1 (not at all) to 5 (perfectly), with its 95% confidence
interval (Student t over ratings).</p>
{_fit_table(systems)}
<h2>What did listeners hear?</h2>
<p class="hint">Share of ratings per answer, beside the automatic outcome classes of the
same clips.</p>
{_outcome_table(systems)}
<h2>Do listeners agree with the automatic outcome classes?</h2>
{_agreement_table(systems, summary["agreement"])}
</section>"""
    return page("Results", body)


def _number(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _system_cell(system: str, rows: int = 1) -> str:
    span = f' rowspan="{rows}"' if rows > 1 else ""
    return (
        f'<th scope="row"{span}>{escape(system)}'
        f'<span class="note">{SYSTEM_NOTES[system]}</span></th>'
    )


def _fit_table(systems: dict[str, Any]) -> str:
    rows = []
    for system, entry in systems.items():
        fit = entry["fit"]
        interval = "–" if fit["low"] is None else f"{fit['low']:.2f} – {fit['high']:.2f}"
        rows.append(
            f"<tr>{_system_cell(system)}<td>{fit['n']}</td><td class='big'>"
            f"{_number(fit['mean'])}</td><td>{interval}</td><td>{_fit_chart(fit)}</td></tr>"
        )
    return (
        '<table class="results"><thead><tr><th>system</th><th>ratings</th><th>mean fit</th>'
        f"<th>95% CI</th><th>1 ··· 5</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _fit_chart(fit: dict[str, Any]) -> str:
    """An SVG scale from 1 to 5 with the mean as a dot and the CI as a bar."""
    width, pad = 200, 8

    def x(value: float) -> float:
        return pad + (min(5.0, max(1.0, value)) - 1) / 4 * (width - 2 * pad)

    parts = [f'<line class="axis" x1="{pad}" x2="{width - pad}" y1="12" y2="12"/>']
    parts += [f'<line class="tick" x1="{x(g)}" x2="{x(g)}" y1="8" y2="16"/>' for g in range(1, 6)]
    if fit["low"] is not None:
        parts.append(
            f'<line class="ci" x1="{x(fit["low"])}" x2="{x(fit["high"])}" y1="12" y2="12"/>'
        )
    if fit["mean"] is not None:
        parts.append(f'<circle class="mean" cx="{x(fit["mean"])}" cy="12" r="5"/>')
    size = f'viewBox="0 0 {width} 24" width="{width}" height="24"'
    return f'<svg class="chart" {size}>{"".join(parts)}</svg>'


def _outcome_table(systems: dict[str, Any]) -> str:
    head = "".join(f"<th>{o}</th>" for o in OUTCOMES)
    rows = []
    for system, entry in systems.items():
        for source, label in (("outcomes", "listeners"), ("automatic", "automatic")):
            shares = entry[source]
            cells = "".join(f"<td>{_percent(shares[o])}</td>" for o in OUTCOMES)
            first = _system_cell(system, rows=2) if source == "outcomes" else ""
            rows.append(
                f"<tr class='{source}'>{first}<td>{label}</td>{cells}"
                f"<td>{_share_bar(shares)}</td></tr>"
            )
    return (
        f'<table class="results"><thead><tr><th>system</th><th>by</th>{head}<th></th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _share_bar(shares: dict[str, float | None]) -> str:
    """A stacked SVG bar of the music/silence/noise shares."""
    width, start, parts = 160.0, 0.0, []
    for outcome in OUTCOMES:
        share = shares[outcome] or 0.0
        box = f'x="{start:.1f}" y="2" width="{share * width:.1f}" height="14"'
        parts.append(f'<rect class="{outcome}" {box}/>')
        start += share * width
    size = f'viewBox="0 0 {width:.0f} 18" width="{width:.0f}" height="18"'
    return f'<svg class="bar" {size}>{"".join(parts)}</svg>'


def _agreement_table(systems: dict[str, Any], overall: dict[str, Any]) -> str:
    rows = [
        f"<tr>{_system_cell(system)}<td>{entry['agreement']['n']}</td>"
        f"<td>{_percent(entry['agreement']['share'])}</td>"
        f"<td>{_number(entry['agreement']['kappa'])}</td></tr>"
        for system, entry in systems.items()
    ]
    rows.append(
        f"<tr class='total'><th scope='row'>all</th><td>{overall['n']}</td>"
        f"<td>{_percent(overall['share'])}</td><td>{_number(overall['kappa'])}</td></tr>"
    )
    return (
        '<table class="results"><thead><tr><th>system</th><th>ratings</th><th>agreement</th>'
        "<th>Cohen's κ</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        '<p class="hint">Agreement: share of ratings whose answer equals the automatic class of '
        "the clip. Cohen's κ corrects it for chance (1 = perfect, 0 = chance level); it is "
        "undefined (–) when both sides use a single class.</p>"
    )
