"""A killed `bandmate synth` leaves no workers and no debris (issue #32, item 3).

The interruption tests start the real CLI with two workers, kill it mid-render (SIGKILL:
nothing of the parent runs; SIGTERM: the parent cleans up), then check that the workers
died with it and that a rerun into the same `--out` leaves no partial folder behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bandmate.synth.dataset import MANIFEST, remove_stale_partials, synthesize
from tests.synth.conftest import tiny_settings

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")

# Six two-minute songs: each takes a worker a second or more, so the run is mid-song when
# it is killed, and the whole run would take far longer than these tests wait.
LONG_RUN = ["--songs", "6", "--clip-seconds", "120", "--sources", "band", "--sample-rate",
            "16000", "--seed", "3", "--jobs", "2", "--no-progress"]  # fmt: skip
TIMEOUT_S = 10.0


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of process `pid`, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    state, ppid = text[text.rindex(")") + 2 :].split()[:2]  # the name may hold spaces
    return state, int(ppid)


def _children(pid: int) -> set[int]:
    """The live (not zombie) child processes of `pid`."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pid and stat[0] != "Z":
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"  # a zombie has exited; only its reaping waits


def _wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {TIMEOUT_S} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def running_synth(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], set[int], Path]]:
    """A `bandmate synth --jobs 2` in the middle of rendering: (process, workers, out)."""
    out = tmp_path / "data"
    command = [sys.executable, "-m", "bandmate", "synth", "--out", str(out), *LONG_RUN]
    parent = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    workers: set[int] = set()
    try:
        partial = tmp_path / f".data.partial-{parent.pid}"
        _wait_for(lambda: len(_children(parent.pid)) >= 2 and partial.is_dir(), "2 workers")
        workers = _children(parent.pid)
        time.sleep(0.5)  # into the first songs
        assert parent.poll() is None, parent.communicate()
        yield parent, workers, out
    finally:  # never leave processes behind, whatever the code under test did
        for pid in [parent.pid, *workers]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        parent.communicate()


def _assert_workers_die(workers: set[int]) -> None:
    _wait_for(lambda: not any(_alive(pid) for pid in workers), "the workers to exit")


def _assert_rerun_cleans_up(out: Path) -> None:
    synthesize(out, tiny_settings(songs=2), jobs=1)
    assert (out / MANIFEST).is_file()
    assert [p.name for p in out.parent.iterdir()] == [out.name]


def test_sigkill_of_the_parent_kills_its_workers(
    running_synth: tuple[subprocess.Popen[str], set[int], Path],
) -> None:
    parent, workers, out = running_synth
    parent.kill()
    parent.wait()
    _assert_workers_die(workers)
    assert (out.parent / f".data.partial-{parent.pid}").is_dir()  # nothing of the parent ran
    _assert_rerun_cleans_up(out)


def test_sigterm_stops_the_workers_and_removes_the_partial_folder(
    running_synth: tuple[subprocess.Popen[str], set[int], Path],
) -> None:
    parent, workers, out = running_synth
    parent.terminate()
    _, stderr = parent.communicate(timeout=TIMEOUT_S)
    assert parent.returncode == 130
    assert stderr.strip().splitlines()[-1] == "bandmate synth: interrupted"
    assert "Traceback" not in stderr
    _assert_workers_die(workers)
    assert list(out.parent.iterdir()) == []  # the parent removed its own partial folder
    _assert_rerun_cleans_up(out)


def test_a_worker_whose_parent_already_died_exits() -> None:
    # The parent can die between the fork and the `prctl` that arms the death signal.
    code = "from bandmate.synth.dataset import _init_worker; _init_worker(0); print('ran on')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (1, "")


def test_the_watchdog_without_prctl_exits_when_the_parent_dies() -> None:
    # The fallback where prctl is missing (not Linux), run here in a forked grandchild.
    code = (
        "import os, time\n"
        "from bandmate.synth.dataset import _watch_parent\n"
        "if os.fork() == 0:\n"
        "    _watch_parent(os.getppid(), interval_s=0.05)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code])
    children: set[int] = set()
    try:
        _wait_for(lambda: _children(parent.pid), "the watched child")
        children = _children(parent.pid)
        parent.kill()
        parent.wait()
        _assert_workers_die(children)
    finally:
        for pid in [parent.pid, *children]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        parent.wait()


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_partial_folders_of_dead_synths_into_this_out_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "data"
    dead, running = _dead_pid(), os.getppid()
    stale = tmp_path / f".data.partial-{dead}"
    kept = [
        tmp_path / f".data.partial-{running}",  # another synth into the same out, still running
        tmp_path / f".data.partial-{os.getpid()}",  # this process's own (synthesize handles it)
        tmp_path / f".other.partial-{dead}",  # another out's
        tmp_path / ".data.partial-x1",
        tmp_path / f"data.partial-{dead}",
    ]
    for folder in [stale, *kept]:
        (folder / "Audio").mkdir(parents=True)
    not_a_folder = tmp_path / f".data.partial-{dead + 1}"
    not_a_folder.write_text("a file, not a partial folder")
    link = tmp_path / f".data.partial-{dead + 2}"
    link.symlink_to(kept[0], target_is_directory=True)
    removed = remove_stale_partials(out)
    assert removed == [stale]
    assert not stale.exists()
    assert all(folder.is_dir() for folder in kept)
    assert not_a_folder.is_file() and link.is_symlink() and (kept[0] / "Audio").is_dir()
