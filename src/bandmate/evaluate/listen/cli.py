"""`bandmate listen`: serve the blind listening test of a report, or export its ratings."""

from __future__ import annotations

import argparse
import contextlib
import logging
import socket
import sys
from pathlib import Path

from bandmate.errors import BandmateError

log = logging.getLogger(__name__)

# Hosts whose Host header Starlette can check; others (IPv6 included) accept any Host header.
CHECKED_HOSTS = ("127.0.0.1", "localhost")
LOOPBACK = {*CHECKED_HOSTS, "::1"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "report_dir", metavar="REPORTDIR", help="report written by `bandmate evaluate`"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="TCP port to listen on (default 8000)"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: this machine only; other addresses expose "
        "the test to the network)",
    )
    parser.add_argument(
        "--db", help="SQLite file of the ratings (default REPORTDIR/ratings.sqlite)"
    )
    parser.add_argument(
        "--export", metavar="CSV", help="write all ratings to this CSV file and exit (no server)"
    )


def run(args: argparse.Namespace) -> int:
    from bandmate.evaluate.listen.report import load_report
    from bandmate.evaluate.listen.store import RatingStore, export_csv

    report_dir = Path(args.report_dir)
    if not report_dir.is_dir():
        raise BandmateError(
            f"{report_dir}: not a directory (expected a report of `bandmate evaluate`)"
        )
    db_path = Path(args.db) if args.db else report_dir / "ratings.sqlite"
    if args.export:
        if not db_path.is_file():
            raise BandmateError(f"{db_path}: no ratings database (run `bandmate listen` first)")
        store = RatingStore(db_path)
        trials = load_report(report_dir, store.secret()).by_id()
        count = export_csv(store.ratings(), trials, args.export)
        print(f"wrote {count} ratings to {args.export}", file=sys.stderr)
        return 0
    if not 0 < args.port < 65536:
        raise BandmateError(f"--port {args.port}: must be 1-65535")
    return _serve(report_dir, db_path, args.host, args.port)


def _serve(report_dir: Path, db_path: Path, host: str, port: int) -> int:
    import uvicorn

    from bandmate.evaluate.listen.app import create_app

    allowed = list(CHECKED_HOSTS) if host in CHECKED_HOSTS else ["*"]
    if host not in LOOPBACK:
        log.warning("binding %s: anyone who can reach this address can rate and read results", host)
    # The port first: a busy one fails before the address is announced and before the
    # ratings database is created, and the server then takes this very socket (no race).
    with contextlib.closing(bind(host, port)) as sock:
        app = create_app(report_dir, db_path, allowed_hosts=allowed)
        shown = f"[{host}]" if ":" in host else host
        print(
            f"listening test on http://{shown}:{port}/  (results: /results; ctrl-c stops)",
            file=sys.stderr,
        )
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        server.run(sockets=[sock])
    if not server.started:  # uvicorn has logged why
        raise BandmateError(f"the server on {host}:{port} did not start")
    return 0


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port), as uvicorn would bind it; a busy port or an
    address this machine does not have is a `BandmateError` naming --host/--port."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise BandmateError(f"--host {host}: unknown address ({error.strerror})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise BandmateError(
            f"--port {port}: cannot listen on {host}:{port} ({error.strerror})"
        ) from None
    return sock
