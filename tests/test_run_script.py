"""make run (scripts/run.sh) on a desk PC: listens on this computer only unless BIND says
otherwise, and restarts a Celery worker or beat that dies, within a limit.

The script runs with stand-ins for python, gunicorn and celery (RUN_PYTHON, RUN_GUNICORN,
RUN_CELERY) that write what they were asked to do into a log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FAKE_PYTHON = """#!/usr/bin/env bash
case "$*" in *shell*) echo True ;; esac
"""
FAKE_GUNICORN = """#!/usr/bin/env bash
echo "gunicorn $*" >> "$RUN_LOG"
exec sleep 60
"""
# Beat dies at once for its first BEAT_DEATHS starts, then stays up; the worker stays up.
FAKE_CELERY = """#!/usr/bin/env bash
case "$*" in
  *beat*)
    echo beat >> "$RUN_LOG"
    if [ "$(grep -c '^beat$' "$RUN_LOG")" -le "$BEAT_DEATHS" ]; then exit 3; fi
    exec sleep 60 ;;
  *) echo worker >> "$RUN_LOG"; exec sleep 60 ;;
esac
"""


def _tool(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def _start(tmp_path: Path, *, beat_deaths: int, **env: str) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / "run.log"
    log.touch()
    # A file, not a pipe: reading it never waits for every process that inherited it.
    errors = (tmp_path / "stderr").open("w")
    clean = {k: v for k, v in os.environ.items() if k not in {"BIND", "RESTART_LIMIT"}}
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "run.sh")],
        env={
            **clean,
            "RUN_PYTHON": _tool(tmp_path, "python", FAKE_PYTHON),
            "RUN_GUNICORN": _tool(tmp_path, "gunicorn", FAKE_GUNICORN),
            "RUN_CELERY": _tool(tmp_path, "celery", FAKE_CELERY),
            "RUN_LOG": str(log),
            "BEAT_DEATHS": str(beat_deaths),
            "RESTART_PAUSE_SECONDS": "0",
            "PORT": "8765",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=errors,
        text=True,
        start_new_session=True,  # its own process group, so teardown can end every stand-in
    )
    errors.close()  # the script has its own copy
    return process, log


@pytest.fixture
def stopper() -> list[subprocess.Popen]:
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for(condition: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.parametrize(
    ("bind", "expected"),
    [(None, "127.0.0.1:8765"), ("0.0.0.0", "0.0.0.0:8765"), ("::", "[::]:8765")],  # noqa: S104
)
def test_the_web_server_listens_on_this_computer_unless_bind_says_otherwise(
    tmp_path: Path, stopper: list, bind: str | None, expected: str
):
    process, log = _start(tmp_path, beat_deaths=0, **({"BIND": bind} if bind else {}))
    stopper.append(process)
    _wait_for(lambda: "gunicorn" in log.read_text())
    assert f"--bind {expected} " in log.read_text()
    os.kill(process.pid, signal.SIGTERM)
    assert process.wait(timeout=30) == 0, (tmp_path / "stderr").read_text()


def test_a_beat_that_dies_is_restarted_and_the_app_keeps_running(tmp_path: Path, stopper: list):
    process, log = _start(tmp_path, beat_deaths=2, RESTART_LIMIT="5")
    stopper.append(process)
    _wait_for(lambda: log.read_text().count("beat\n") == 3)
    time.sleep(0.5)
    assert process.poll() is None  # web and worker were not stopped
    os.kill(process.pid, signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    errors = (tmp_path / "stderr").read_text()
    assert "Celery beat stopped (exit status 3); restarting it" in errors


def test_a_beat_that_keeps_dying_stops_everything_with_a_message(tmp_path: Path, stopper: list):
    process, log = _start(tmp_path, beat_deaths=100, RESTART_LIMIT="3")
    stopper.append(process)
    assert process.wait(timeout=60) == 1
    assert log.read_text().count("beat\n") == 4  # the first start and three restarts
    errors = (tmp_path / "stderr").read_text()
    assert "Celery beat stopped (exit status 3) again after 3 restarts" in errors
    assert "Celery beat stopped for good; stopping the others" in errors
    # The web server and the worker were stopped too: nothing of the group is left.
    with pytest.raises(ProcessLookupError):
        _wait_for(lambda: os.killpg(process.pid, 0) and False, seconds=5)
