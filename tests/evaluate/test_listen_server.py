"""The listening-test server over real HTTP (uvicorn on a loopback port): pages, audio,
input validation, path safety and concurrent raters.

`running_server` and `http` are shared with the browser test.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from bandmate.evaluate.listen.app import create_app, json_depth
from bandmate.evaluate.listen.report import Report, load_report, trial_order
from bandmate.evaluate.listen.store import RatingStore
from tests.evaluate.test_listen_report import write_fake_report


@contextlib.contextmanager
def running_server(app: Starlette) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port in a thread; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# Never through a proxy, never following redirects: tests see exactly what the server says.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


def http(
    url: str,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    method: str | None = None,
) -> Reply:
    """One HTTP request; 4xx/5xx come back as a Reply instead of raising."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with _OPENER.open(request, timeout=10) as response:
            return Reply(
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as error:
        return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def post_rating(base: str, rating: dict[str, Any]) -> Reply:
    body = json.dumps(rating).encode()
    return http(f"{base}/api/ratings", body, {"Content-Type": "application/json"})


@dataclass
class Setup:
    base: str
    report: Report
    db: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Setup]:
    report_dir = write_fake_report(tmp_path / "report", n_examples=2)
    db = tmp_path / "ratings.sqlite"
    app = create_app(report_dir, db)
    report = load_report(report_dir, RatingStore(db).secret())
    with running_server(app) as base:
        yield Setup(base, report, db)


def _rows(db: Path) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT rater, trial_id, system, outcome, fit FROM ratings").fetchall()


def test_start_page_and_rater_redirect(served: Setup) -> None:
    start = http(served.base + "/")
    assert start.status == 200 and "6 short clips" in start.text
    assert "default-src 'self'" in start.headers["content-security-policy"]
    assert http(served.base + "/rate?rater=ana").headers["location"] == "/rate/ana"
    assert http(served.base + "/rate?rater=ana").status == 303
    for bad in ("", "a%20b", "-ana", "x" * 41, "%3Cscript%3E"):
        assert http(f"{served.base}/rate?rater={bad}").status == 400, bad
    assert "<script>" not in http(f"{served.base}/rate?rater=%3Cscript%3E").text
    assert http(served.base + "/rate/..%2Fetc").status in (400, 404)


def test_trial_page_hides_the_system(served: Setup) -> None:
    page = http(served.base + "/rate/ana")
    first = trial_order(served.report.trials, "ana")[0]
    assert page.status == 200 and "Clip 1 of 6" in page.text
    assert f'data-trial="{first.trial_id}"' in page.text
    assert f'src="/audio/{first.trial_id}"' in page.text
    for secret in ("generated", "original", "shuffled", "input+", "ex000", "ex001", "Song"):
        assert secret not in page.text


def test_audio_is_served_by_trial_id_only(served: Setup) -> None:
    trial = served.report.trials[0]
    audio = http(f"{served.base}/audio/{trial.trial_id}")
    assert audio.status == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.body == trial.path.read_bytes()
    assert trial.system not in json.dumps(audio.headers)
    assert "etag" not in audio.headers and "last-modified" not in audio.headers
    part = http(f"{served.base}/audio/{trial.trial_id}", headers={"Range": "bytes=0-99"})
    assert part.status == 206 and len(part.body) == 100
    for path in (
        "/audio/0123456789abcdef",
        "/audio/..%2Fexamples.json",
        "/audio/%2E%2E/%2E%2E/examples.json",
        "/examples.json",
        "/audio/ex000/input+generated.wav",
        "/static/..%2Fapp.py",
        "/static/report.py",
        "/ratings.sqlite",
    ):
        assert http(served.base + path).status == 404, path


def test_rating_round_trip(served: Setup) -> None:
    order = trial_order(served.report.trials, "ana")
    reply = post_rating(
        served.base, {"rater": "ana", "trial": order[0].trial_id, "outcome": "noise", "fit": 2}
    )
    assert reply.status == 201
    assert reply.json() == {"saved": True, "rated": 1, "total": 6, "next": "/rate/ana"}
    assert _rows(served.db) == [("ana", order[0].trial_id, order[0].system, "noise", 2)]
    page = http(served.base + "/rate/ana").text
    assert "Clip 2 of 6" in page and f'data-trial="{order[1].trial_id}"' in page
    for trial in order[1:]:
        assert (
            post_rating(
                served.base, {"rater": "ana", "trial": trial.trial_id, "outcome": "music", "fit": 5}
            ).status
            == 201
        )
    assert "You have rated all 6 clips" in http(served.base + "/rate/ana").text
    results = http(served.base + "/api/results").json()
    assert results["n_ratings"] == 6 and results["n_raters"] == 1
    assert results["systems"][order[0].system]["fit"]["n"] == 2
    html = http(served.base + "/results").text
    assert "generated" in html and "Cohen" in html and "6 ratings from 1 raters" in html
    csv_text = http(served.base + "/results.csv").text
    assert csv_text.splitlines()[0].startswith("rater,trial_id") and len(csv_text.splitlines()) == 7


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"rater": "a b"}, 422),
        ({"rater": 7}, 422),
        ({"trial": "0123456789abcdef"}, 404),
        ({"trial": ["x"]}, 404),
        ({"outcome": "loud"}, 422),
        ({"outcome": None}, 422),
        ({"fit": 0}, 422),
        ({"fit": 6}, 422),
        ({"fit": "3"}, 422),
        ({"fit": 3.0}, 422),
        ({"fit": True}, 422),
        ({"extra": 1}, 422),
    ],
)
def test_invalid_ratings_are_rejected(served: Setup, change: dict[str, Any], status: int) -> None:
    rating = {
        "rater": "ana",
        "trial": served.report.trials[0].trial_id,
        "outcome": "music",
        "fit": 3,
    }
    reply = post_rating(served.base, rating | change)
    assert reply.status == status and "error" in reply.json()
    assert _rows(served.db) == []


def test_malformed_requests_are_rejected(served: Setup) -> None:
    url = served.base + "/api/ratings"
    good = json.dumps(
        {"rater": "ana", "trial": served.report.trials[0].trial_id, "outcome": "music", "fit": 3}
    )
    assert http(url, good.encode(), {"Content-Type": "text/plain"}).status == 415
    assert http(url, b"{oops", {"Content-Type": "application/json"}).status == 400
    assert http(url, b"[1, 2]", {"Content-Type": "application/json"}).status == 400
    assert (
        http(url, b" " * 5000 + good.encode(), {"Content-Type": "application/json"}).status == 413
    )
    missing = json.dumps({"rater": "ana", "fit": 3}).encode()
    assert http(url, missing, {"Content-Type": "application/json"}).status == 422
    assert http(url, method="GET").status == 405
    assert _rows(served.db) == []


def test_deeply_nested_json_is_a_400_not_a_500(served: Setup) -> None:
    """2,000 `[` fit in the body limit; json.loads would recurse into a RecursionError."""
    url = served.base + "/api/ratings"
    headers = {"Content-Type": "application/json"}
    for body in (b"[" * 2000, b"[" * 2000 + b"]" * 2000, b'{"rater": ' + b"[" * 1500):
        reply = http(url, body, headers)
        assert reply.status == 400 and "nested" in reply.json()["error"]
    # Brackets inside strings are text, not nesting: this one fails as a rating, not JSON.
    rating = {"rater": "[" * 1000, "trial": "{", "outcome": "music", "fit": 3}
    assert post_rating(served.base, rating).status == 422
    assert _rows(served.db) == []


def test_json_depth_counts_brackets_outside_strings() -> None:
    text = r'{"a": [1, {"b": "]]]["}], "c": "\\"}'
    assert json.loads(text)["c"] == "\\" and json_depth(text) == 3
    assert json_depth(r'"[[\"[["') == 0
    assert json_depth("3") == 0


def test_foreign_host_header_is_refused(served: Setup) -> None:
    assert http(served.base + "/", headers={"Host": "evil.example"}).status == 400


def test_concurrent_raters_lose_no_rating(served: Setup) -> None:
    raters = [f"r{index}" for index in range(8)]
    barrier = threading.Barrier(len(raters))
    failures: list[str] = []

    def rate_all(rater: str) -> None:
        barrier.wait(timeout=10)
        for round_ in range(2):  # the second round re-rates everything: replaces, adds none
            for trial in trial_order(served.report.trials, rater):
                fit = (len(rater) + len(trial.trial_id) + round_) % 5 + 1
                rating = {"rater": rater, "trial": trial.trial_id, "outcome": "music", "fit": fit}
                reply = post_rating(served.base, rating)
                if reply.status != 201:
                    failures.append(f"{rater}: {reply.status} {reply.text}")

    threads = [threading.Thread(target=rate_all, args=(rater,)) for rater in raters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    rows = _rows(served.db)
    assert len(rows) == len(raters) * len(served.report.trials)
    assert {(r[0], r[1]) for r in rows} == {
        (r, t.trial_id) for r in raters for t in served.report.trials
    }
    assert all(fit == (len(rater) + len(trial) + 1) % 5 + 1 for rater, trial, _, _, fit in rows)
