"""The listening-test web app (Starlette): pages, the rating API and the audio of the trials.

Routes:
    GET  /                  start page (rater id form; GET /rate?rater=X redirects)
    GET  /rate/{rater}      the rater's next unrated trial, or a thank-you page
    POST /api/ratings       JSON {"rater", "trial", "outcome", "fit"} -> 201 {"next", ...}
    GET  /audio/{trial_id}  the trial's "input+<system>" WAV (only files of the report)
    GET  /results           per-system summary; /api/results as JSON; /results.csv
    GET  /static/{name}     the page's CSS and JS
"""

from __future__ import annotations

import csv
import functools
import io
import json
import logging
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bandmate.evaluate.listen import pages
from bandmate.evaluate.listen.report import OUTCOMES, Report, load_report, trial_order
from bandmate.evaluate.listen.stats import summarize
from bandmate.evaluate.listen.store import CSV_COLUMNS, RatingStore, csv_rows

log = logging.getLogger(__name__)

RATER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,39}")
TRIAL_PATTERN = re.compile(r"[0-9a-f]{16}")
MAX_BODY_BYTES = 4096
# A rating is one flat object; Python's json parser recurses per nesting level, so 2,000
# `[` (well within MAX_BODY_BYTES) would end in a RecursionError, a 500.
MAX_JSON_DEPTH = 4
STATIC_TYPES = {
    "listen.css": "text/css; charset=utf-8",
    "listen.js": "text/javascript; charset=utf-8",
}
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class ListenState:
    """What the handlers share: the report's trials and the ratings database."""

    def __init__(self, report_dir: str | Path, db_path: str | Path) -> None:
        # Check the report before the database exists, so a wrong REPORTDIR leaves no file.
        load_report(report_dir, secret=b"")
        self.store = RatingStore(db_path)
        self.report: Report = load_report(report_dir, self.store.secret())
        self.trials = self.report.by_id()


def create_app(
    report_dir: str | Path, db_path: str | Path, allowed_hosts: list[str] | None = None
) -> Starlette:
    """The app for one report directory and ratings database.

    Args:
        report_dir: directory with examples.json and the audio it names.
        db_path: SQLite file of the ratings (created if absent).
        allowed_hosts: Host header values to answer (guards against DNS rebinding);
            None allows 127.0.0.1 and localhost.
    Raises:
        DataError: the report or the database cannot be read.
    """
    state = ListenState(report_dir, db_path)
    hosts = allowed_hosts or ["127.0.0.1", "localhost"]
    routes = [
        Route("/", _welcome),
        Route("/rate", _rate_form),
        Route("/rate/{rater}", _rate),
        Route("/api/ratings", _post_rating, methods=["POST"]),
        Route("/audio/{trial_id}", _audio),
        Route("/results", _results),
        Route("/api/results", _results_json),
        Route("/results.csv", _results_csv),
        Route("/static/{name}", _static),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
            Middleware(SecurityHeaders),
        ],
    )
    app.state.listen = state
    return app


class SecurityHeaders:
    """Adds a strict Content-Security-Policy and friends to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _state(request: Request) -> ListenState:
    state: ListenState = request.app.state.listen
    return state


def _welcome(request: Request) -> Response:
    return HTMLResponse(pages.welcome_page(len(_state(request).trials)))


def _rate_form(request: Request) -> Response:
    rater = request.query_params.get("rater", "").strip()
    if not RATER_PATTERN.fullmatch(rater):
        error = f"{rater!r} is not a valid rater id: please choose another."
        page = pages.welcome_page(len(_state(request).trials), error, rater)
        return HTMLResponse(page, status_code=400)
    return RedirectResponse(pages.rate_url(rater), status_code=303)


def _rate(request: Request) -> Response:
    state = _state(request)
    rater = request.path_params["rater"]
    if not RATER_PATTERN.fullmatch(rater):
        return HTMLResponse(
            pages.error_page(f"Invalid rater id: {pages.RATER_HELP}."), status_code=400
        )
    order = trial_order(state.report.trials, rater)
    rated = state.store.rated_trials(rater)
    for trial in order:
        if trial.trial_id not in rated:
            page = pages.trial_page(rater, trial, len(rated) + 1, len(order))
            return HTMLResponse(page, headers={"cache-control": "no-store"})
    return HTMLResponse(pages.done_page(rater, len(order)), headers={"cache-control": "no-store"})


async def _post_rating(request: Request) -> Response:
    state = _state(request)
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return _error(415, "send the rating as application/json")
    body = await _read_body(request)
    if body is None:
        return _error(413, f"request body over {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _error(400, "body is not valid JSON")
    if json_depth(text) > MAX_JSON_DEPTH:
        return _error(400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return _error(400, "body is not valid JSON")
    problem = _invalid_rating(data, state)
    if problem is not None:
        return _error(*problem)
    rater, trial = data["rater"], state.trials[data["trial"]]
    order = [t.trial_id for t in trial_order(state.report.trials, rater)]
    position = order.index(trial.trial_id) + 1
    # Blocking sqlite calls run off the event loop.
    await run_in_threadpool(state.store.save, rater, trial, data["outcome"], data["fit"], position)
    log.info("rating saved: rater=%s trial=%s", rater, trial.trial_id)
    rated = await run_in_threadpool(state.store.rated_trials, rater)
    payload = {
        "saved": True,
        "rated": len(rated),
        "total": len(order),
        "next": pages.rate_url(rater),
    }
    return JSONResponse(payload, status_code=201)


async def _read_body(request: Request) -> bytes | None:
    """The request body, or None once it grows past MAX_BODY_BYTES."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def json_depth(text: str) -> int:
    """The deepest nesting of `[`/`{` in JSON text, brackets inside strings aside; counted
    without recursion, so it can vet a body before `json.loads` recurses into it."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _invalid_rating(data: Any, state: ListenState) -> tuple[int, str] | None:
    """(status, message) for the first problem of a posted rating, None when it is valid."""
    if not isinstance(data, dict):
        return 400, "expected a JSON object"
    expected = {"rater", "trial", "outcome", "fit"}
    if set(data) != expected:
        return 422, f"expected exactly the fields {sorted(expected)}"
    if not isinstance(data["rater"], str) or not RATER_PATTERN.fullmatch(data["rater"]):
        return 422, f"invalid rater id: {pages.RATER_HELP}"
    if not isinstance(data["trial"], str) or data["trial"] not in state.trials:
        return 404, "unknown trial"
    if data["outcome"] not in OUTCOMES:
        return 422, f"outcome must be one of {list(OUTCOMES)}"
    fit = data["fit"]
    if not isinstance(fit, int) or isinstance(fit, bool) or not 1 <= fit <= 5:
        return 422, "fit must be an integer from 1 to 5"
    return None


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _audio(request: Request) -> Response:
    trial_id = request.path_params["trial_id"]
    trial = _state(request).trials.get(trial_id) if TRIAL_PATTERN.fullmatch(trial_id) else None
    if trial is None:
        return Response("unknown trial", status_code=404, media_type="text/plain")
    # The path was checked against the report directory when the report was loaded. The
    # file's name, and its dates (ETag, Last-Modified), stay out of the response: they
    # could tell a generated clip from the others.
    try:
        stat = os.stat(trial.path)  # given to FileResponse, it sets the stat headers now
    except OSError:
        log.warning("audio of trial %s is gone: %s", trial_id, trial.path)
        return Response("audio file missing", status_code=404, media_type="text/plain")
    response = FileResponse(
        trial.path,
        media_type="audio/wav",
        headers={"cache-control": "private, max-age=3600"},
        stat_result=stat,
    )
    for header in ("etag", "last-modified"):
        del response.headers[header]
    return response


def _summary(state: ListenState) -> dict[str, Any]:
    return summarize(state.store.ratings(), state.trials)


def _results(request: Request) -> Response:
    return HTMLResponse(
        pages.results_page(_summary(_state(request))), headers={"cache-control": "no-store"}
    )


def _results_json(request: Request) -> Response:
    return JSONResponse(_summary(_state(request)), headers={"cache-control": "no-store"})


def _results_csv(request: Request) -> Response:
    state = _state(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(state.store.ratings(), state.trials))
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": 'attachment; filename="ratings.csv"',
            "cache-control": "no-store",
        },
    )


def _static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC_TYPES:
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(
        _static_text(name), media_type=STATIC_TYPES[name], headers={"cache-control": "no-cache"}
    )


@functools.cache
def _static_text(name: str) -> str:
    return resources.files("bandmate.evaluate.listen").joinpath("static", name).read_text()
