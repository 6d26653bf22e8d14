"""Real servers for the integration tests: Redis, an SMTP sink, a Celery worker and beat.

The worker and beat are separate processes started the way ``make run`` and production start
them, pointed at the test database (committed data: the tests use ``transaction=True``), a
throwaway Redis and the SMTP sink, with sweeps every two seconds so a test takes seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

from tests.smtp_sink import SmtpSink, free_port, running_sink

ROOT = Path(__file__).resolve().parents[2]
SWEEP_SECONDS = 2


def wait_until(condition: Any, *, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError("redis-server is not installed: run scripts/system_packages.sh")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.exceptions.ConnectionError:
                return False

        if not wait_until(answers, timeout=10):
            raise RuntimeError("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def smtp_sink() -> Iterator[SmtpSink]:
    with running_sink() as sink:
        yield sink


def database_url() -> str:
    """The URL of the database this test run uses (the test database, not the real one)."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    user = quote(settings.get("USER") or "", safe="")
    password = quote(settings.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{settings['NAME']}"


def process_environment(*, broker: str, sink: SmtpSink, extra: dict[str, str]) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_", "CELERY_", "EMAIL_", "CLINIC_"))
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "clinic.settings",
            "DJANGO_DEBUG": "1",
            "CLINIC_TESTING": "0",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker,
            "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
            "MESSAGE_SWEEP_SECONDS": str(SWEEP_SECONDS),
            "MESSAGE_RETRY_BASE_SECONDS": "2",
            "LOG_LEVEL": "INFO",
            **extra,
        }
    )
    return environment


class CeleryProcesses:
    """A worker and beat; their output goes to files the test prints when it fails."""

    def __init__(self, environment: dict[str, str], folder: Path) -> None:
        self.environment = environment
        self.folder = folder
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def _start(self, name: str, arguments: list[str]) -> None:
        log = self.folder / f"{name}.log"
        self.logs.append(log)
        handle = log.open("ab")
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "clinic", *arguments],
                cwd=ROOT,
                env=self.environment,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        )

    def start(self) -> None:
        self._start(
            "worker",
            [
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--without-mingle",
                "--without-gossip",
                "--hostname",
                f"test-worker-{os.getpid()}@%h",
            ],
        )
        self._start(
            "beat",
            ["beat", "--loglevel", "INFO", "--schedule", str(self.folder / "beat-schedule")],
        )

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self.processes.clear()

    def output(self) -> str:
        return "\n".join(
            f"----- {log.name} -----\n{log.read_text(errors='replace')[-6000:]}"
            for log in self.logs
            if log.exists()
        )


@pytest.fixture
def celery_processes(
    django_db_setup: Any,
    redis_url: str,
    smtp_sink: SmtpSink,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[CeleryProcesses]:
    """Started by the test (``.start()``) once its data is committed; stopped afterwards."""
    processes = CeleryProcesses(
        process_environment(broker=redis_url, sink=smtp_sink, extra={}), tmp_path
    )
    yield processes
    processes.stop()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(processes.output())  # shown with the failure


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
