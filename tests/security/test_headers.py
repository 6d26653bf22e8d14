"""Security headers on real responses, in development and production settings."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


def _production_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE comes from the browser tests' conftest in this process.
        if key
        not in {
            "CLINIC_TESTING",
            "DATABASE_URL",
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    env.update(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "clinic.example",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
            "EMAIL_URL": "smtp://mail.clinic.example:587",
            "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        }
    )
    return env


def test_check_deploy_passes_with_production_settings(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


PRODUCTION_PROBE = """
import json, django
django.setup()
from django.core.management import call_command
from django.test import Client
# Production serves hashed static files from the manifest, as after a deploy.
call_command("collectstatic", interactive=False, verbosity=0)
response = Client().get("/accounts/login/", secure=True, HTTP_HOST="clinic.example")
print(json.dumps({
    "status": response.status_code,
    "headers": dict(response.headers),
    "cookies": {name: dict(morsel) for name, morsel in response.cookies.items()},
}))
"""


def test_production_responses_carry_hsts_and_secure_cookies(tmp_path: Path):
    env = _production_env(tmp_path)
    env["DJANGO_SETTINGS_MODULE"] = "clinic.settings"
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    headers = probe["headers"]
    assert probe["status"] == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert probe["cookies"]["csrftoken"]["secure"] is True
    assert probe["cookies"]["csrftoken"]["httponly"] is True
    # Plain http is sent to https.
    insecure = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE.replace("secure=True", "secure=False")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert json.loads(insecure.stdout.strip().splitlines()[-1])["status"] == 301


def _assert_page_headers(response: Any) -> None:
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_pages_with_patient_data_are_not_stored_and_carry_a_strict_policy(
    client: Client, manager: Any, patient: Any
):
    client.force_login(manager)
    for url in ["/", f"/patients/{patient.pk}/privacy/", "/audit/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        _assert_page_headers(response)


def test_the_sign_in_page_carries_the_headers_and_an_httponly_session_cookie(
    client: Client, receptionist: Any
):
    page = client.get("/accounts/login/")
    _assert_page_headers(page)
    assert "no-store" in page["Cache-Control"]
    response = client.post(
        "/accounts/login/", {"username": "rosa", "password": "correct-horse-battery"}
    )
    session_cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session_cookie["httponly"] is True
    assert session_cookie["samesite"] == "Lax"


def test_static_files_stay_cacheable(client: Client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_templates_have_no_inline_scripts_styles_or_handlers():
    import re

    offenders = []
    pattern = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>|<style\b|\sstyle=\"|\son[a-z]+=\"",
        re.IGNORECASE,
    )
    for template in (ROOT / "templates").rglob("*.html"):
        if "emails" in template.parts:
            continue  # email clients, not browsers under our CSP
        offenders += [
            f"{template}: {match.group(0)}" for match in pattern.finditer(template.read_text())
        ]
    assert offenders == []


def test_htmx_is_told_not_to_inject_its_own_styles(client: Client, receptionist: Any):
    client.force_login(receptionist)
    html = client.get("/").content.decode()
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false}\'>' in html
