"""Throughput under load: gunicorn on loopback, wrk for a fixed time, calendar vs a trivial view.

Both pages are requested by the same signed-in receptionist (one session cookie), through the
same gunicorn, alternately, so noise from a shared machine hits both alike. The figure that
counts is the ratio: day calendar requests/s over trivial-view requests/s.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings


class LoadUnavailable(Exception):
    pass


@dataclass
class LoadResult:
    trivial_rps: list[float] = field(default_factory=list)
    calendar_rps: list[float] = field(default_factory=list)
    trivial_latency_ms: float | None = None
    calendar_latency_ms: float | None = None
    seconds: int = 0
    connections: int = 0
    workers: int = 0

    @property
    def ratio(self) -> float:
        return (sum(self.calendar_rps) / len(self.calendar_rps)) / (
            sum(self.trivial_rps) / len(self.trivial_rps)
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wrk(url: str, *, cookie: str, seconds: int, connections: int, threads: int) -> dict:
    completed = subprocess.run(  # noqa: S603 - fixed arguments, loopback URL
        [
            shutil.which("wrk") or "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise LoadUnavailable(
            f"wrk exited with {completed.returncode} on {url}: "
            f"{(completed.stderr or completed.stdout).strip()[-500:]}"
        )
    output = completed.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if bad:
        raise LoadUnavailable(f"{url} answered {bad.group(1)} requests with an error:\n{output}")
    latency = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    median = float(latency.group(1)) * scale[latency.group(2)] if latency else None
    return {"rps": rps, "median_ms": median}


def _wait_until_up(url: str, cookie: str, server: subprocess.Popen, deadline: float) -> None:
    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310 - loopback
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise LoadUnavailable("gunicorn stopped while starting; see var/bench-gunicorn.log")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise LoadUnavailable("gunicorn did not answer within 60 s")


def measure_throughput(
    *,
    cookie: str,
    trivial_path: str,
    calendar_path: str,
    seconds: int = 10,
    rounds: int = 2,
    connections: int = 8,
    workers: int = 4,
) -> LoadResult:
    if shutil.which("wrk") is None:
        raise LoadUnavailable("wrk is not installed (apt-get install wrk)")
    port = free_port()
    log = Path(settings.VAR_DIR) / "bench-gunicorn.log"
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bench.settings")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with log.open("w") as log_file:
        server = subprocess.Popen(  # noqa: S603 - our own gunicorn on loopback
            [
                str(gunicorn),
                "clinic.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=settings.BASE_DIR,
        )
    base = f"http://127.0.0.1:{port}"
    result = LoadResult(seconds=seconds, connections=connections, workers=workers)
    try:
        _wait_until_up(base + trivial_path, cookie, server, time.monotonic() + 60)
        options = {"cookie": cookie, "connections": connections, "threads": 2}
        # Warm every worker (templates, connections) on both pages.
        _wrk(base + calendar_path, seconds=2, **options)
        _wrk(base + trivial_path, seconds=2, **options)
        trivial_latency, calendar_latency = [], []
        for _ in range(rounds):
            trivial = _wrk(base + trivial_path, seconds=seconds, **options)
            calendar = _wrk(base + calendar_path, seconds=seconds, **options)
            result.trivial_rps.append(trivial["rps"])
            result.calendar_rps.append(calendar["rps"])
            trivial_latency.append(trivial["median_ms"])
            calendar_latency.append(calendar["median_ms"])
        result.trivial_latency_ms = min(trivial_latency)
        result.calendar_latency_ms = min(calendar_latency)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    return result
