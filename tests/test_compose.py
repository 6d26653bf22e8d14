"""docker-compose.yml parses and wires every service to the variables the app reads.

No Docker engine runs here, so this checks the file itself, and that the environment
each app service receives is accepted by the real settings module.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_whole_stack():
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "mailcatcher"} <= set(services)


def test_web_worker_and_beat_share_one_image_and_the_same_wiring():
    services = compose()["services"]
    images = {services[name]["image"] for name in ("web", "worker", "beat", "migrate")}
    assert images == {"skin-clinic:latest"}
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["DATABASE_URL"].split("@")[1].startswith("postgres:")
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["EMAIL_URL"].startswith("smtp://mailcatcher:")
        assert env["DJANGO_DEBUG"] == "0"
        assert "DJANGO_SECRET_KEY" in env


def test_worker_and_beat_run_celery_and_beat_runs_once():
    services = compose()["services"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "clinic", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "clinic", "beat"]
    assert services["beat"]["deploy"]["replicas"] == 1


def interpolate(value: str) -> str:
    """What compose does with ``${NAME:-default}`` when NAME is unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_the_compose_environment_is_accepted_by_the_settings():
    env = {
        name: interpolate(value)
        for name, value in compose()["services"]["web"]["environment"].items()
    }
    env["DJANGO_SECRET_KEY"] = "a-real-looking-secret-key-for-this-test-0123456789"
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['HOST'], s.CELERY_BROKER_URL, s.EMAIL_HOST, s.DEBUG)"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLINIC_"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "clinic.settings"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["postgres", "redis://redis:6379/0", "mailcatcher", "False"]
