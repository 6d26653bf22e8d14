"""Settings come from the environment and stop start-up on bad values."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.env import Env, generated_secret_key, secret_key_weakness

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "q7Vh2mXo9LrT4sKd8WzN1cYb6PfJ3eGu5AiR0nHl"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("NO", False),
        ("off", False),
        ("", False),
    ],
)
def test_booleans_accept_the_usual_words(raw: str, expected: bool):
    assert Env({"DJANGO_DEBUG": raw}).bool("DJANGO_DEBUG", False) is expected


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "enabled"])
def test_a_wrong_boolean_names_the_variable(raw: str):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        Env({"DJANGO_DEBUG": raw}).bool("DJANGO_DEBUG", False)


def test_port_must_be_a_number_in_range():
    assert Env({"PORT": "8080"}).int("PORT", 8000, minimum=1, maximum=65535) == 8080
    with pytest.raises(ImproperlyConfigured, match="PORT='eighty' is not a whole number"):
        Env({"PORT": "eighty"}).int("PORT", 8000)
    with pytest.raises(ImproperlyConfigured, match="PORT=70000 is above the maximum"):
        Env({"PORT": "70000"}).int("PORT", 8000, minimum=1, maximum=65535)


def test_time_zone_must_exist():
    assert Env({}).time_zone("CLINIC_TIME_ZONE", "Europe/London") == "Europe/London"
    assert Env({"CLINIC_TIME_ZONE": "America/New_York"}).time_zone("CLINIC_TIME_ZONE", "UTC") == (
        "America/New_York"
    )
    with pytest.raises(ImproperlyConfigured, match="CLINIC_TIME_ZONE='Mars/Olympus'"):
        Env({"CLINIC_TIME_ZONE": "Mars/Olympus"}).time_zone("CLINIC_TIME_ZONE", "Europe/London")


def test_database_defaults_to_sqlite_tuned_for_concurrency(tmp_path: Path):
    config = Env({}).database("DATABASE_URL", default_sqlite=tmp_path / "clinic.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert "busy_timeout" in config["OPTIONS"]["init_command"]


def test_postgres_url_is_parsed(tmp_path: Path):
    config = Env({"DATABASE_URL": "postgres://clinic:s3cret@db.internal:5433/clinic"}).database(
        "DATABASE_URL", default_sqlite=tmp_path / "x.sqlite3"
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == (
        "db.internal",
        5433,
        "clinic",
        "clinic",
    )


@pytest.mark.parametrize("url", ["mysql://x@y/z", "postgres://host:5432/", "nonsense"])
def test_unsupported_database_url_names_the_variable(url: str, tmp_path: Path):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        Env({"DATABASE_URL": url}).database("DATABASE_URL", default_sqlite=tmp_path / "x")


def test_email_url_smtp_with_port(tmp_path: Path):
    config = Env({"EMAIL_URL": "smtp://127.0.0.1:1025"}).email("EMAIL_URL", default_dir=tmp_path)
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (config["EMAIL_HOST"], config["EMAIL_PORT"]) == ("127.0.0.1", 1025)
    assert config["EMAIL_USE_TLS"] is False


def test_email_url_submission_with_credentials_uses_tls(tmp_path: Path):
    config = Env({"EMAIL_URL": "smtp+tls://mailer:p%40ss@mail.example:587"}).email(
        "EMAIL_URL", default_dir=tmp_path
    )
    assert config["EMAIL_HOST_USER"] == "mailer"
    assert config["EMAIL_HOST_PASSWORD"] == "p@ss"
    assert config["EMAIL_USE_TLS"] is True


def test_email_defaults_to_files_a_developer_can_read(tmp_path: Path):
    config = Env({}).email("EMAIL_URL", default_dir=tmp_path)
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert config["EMAIL_FILE_PATH"] == str(tmp_path)


@pytest.mark.parametrize("url", ["pop3://mail", "smtp://", "smtp://host:port"])
def test_bad_email_url_names_the_variable(url: str, tmp_path: Path):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        Env({"EMAIL_URL": url}).email("EMAIL_URL", default_dir=tmp_path)


def test_broker_defaults_to_a_serverless_transport(tmp_path: Path):
    url, options = Env({}).broker("CELERY_BROKER_URL", default_dir=tmp_path)
    assert url == "filesystem://"
    assert options["data_folder_in"].startswith(str(tmp_path))


def test_unknown_broker_scheme_names_the_variable(tmp_path: Path):
    with pytest.raises(ImproperlyConfigured, match="CELERY_BROKER_URL"):
        Env({"CELERY_BROKER_URL": "kafka://x"}).broker("CELERY_BROKER_URL", default_dir=tmp_path)


def _start_django(**overrides: str) -> subprocess.CompletedProcess[str]:
    """Start Django's settings in a fresh interpreter with a production-like environment."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "EMAIL_URL", "CLINIC_", "PORT"))
    }
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "clinic.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_without_a_secret_key_refuses_to_start():
    result = _start_django(DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="clinic.example")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_with_secrets_starts():
    result = _start_django(
        DJANGO_DEBUG="false",
        DJANGO_ALLOWED_HOSTS="clinic.example",
        DJANGO_SECRET_KEY=STRONG_KEY,
    )
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_a_typo_in_debug_stops_start_up_with_the_variable_named():
    result = _start_django(DJANGO_DEBUG="ture")
    assert result.returncode != 0
    assert "DJANGO_DEBUG='ture' is not a boolean" in result.stderr


def test_patient_emails_come_from_the_clinic_by_name():
    code = "import django; django.setup(); from django.conf import settings as s; "
    code += "print(s.DEFAULT_FROM_EMAIL)"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CLINIC_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        DJANGO_DEBUG="1",
        CLINIC_NAME="Rosewood Skin",
        CLINIC_EMAIL="hello@rosewood.example",
    )
    shown = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().splitlines()[-1] == "Rosewood Skin <hello@rosewood.example>"


def _clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "EMAIL_URL", "CLINIC_"))
    }
    return {**env, "DJANGO_SETTINGS_MODULE": "clinic.settings"}


def test_manage_py_in_a_fresh_checkout_runs_in_development_mode(tmp_path: Path):
    env = {**_clean_env(), "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_server_process_with_nothing_configured_still_refuses_to_start():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_a_message_lease_shorter_than_the_slowest_smtp_exchange_stops_start_up():
    # A lease that can run out while its sender still waits for the server lets a second
    # sender send the same email.
    result = _start_django(DJANGO_DEBUG="1", EMAIL_TIMEOUT="30", MESSAGE_LEASE_SECONDS="300")
    assert result.returncode != 0
    assert "MESSAGE_LEASE_SECONDS (300) must be at least 12 x EMAIL_TIMEOUT (360)" in result.stderr


@pytest.mark.parametrize(
    ("weak_key", "reason"),
    [
        ("ab" * 30, "fewer than 5 different characters"),
        ("x" * 50, "fewer than 5 different characters"),
        ("Short-but-random-9f3", "fewer than 32"),
        ("change-me-to-50-random-characters", "'change-me'"),
        ("dev-only-insecure-secret-key-do-not-use-in-production", "'insecure'"),
        ("django-insecure-9vq!2^x@k#m7r$w&p4z*t0b+n8c(l)e6", "'insecure'"),
    ],
)
@pytest.mark.parametrize("debug", ["1", "0"])
def test_a_weak_secret_key_stops_start_up_naming_the_variable(
    weak_key: str, reason: str, debug: str
):
    result = _start_django(
        DJANGO_DEBUG=debug, DJANGO_ALLOWED_HOSTS="clinic.example", DJANGO_SECRET_KEY=weak_key
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is too weak" in result.stderr
    assert reason in result.stderr
    assert weak_key not in result.stderr  # a secret, even a weak one, stays out of logs


def _signing_key(**overrides: str) -> str:
    code = "import django; django.setup(); from django.conf import settings; "
    code += "print(settings.SECRET_KEY)"
    env = {**_clean_env(), **overrides}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_debug_mode_without_a_key_signs_with_a_random_one_kept_in_var(tmp_path: Path):
    """make run on a desk PC: no key from the repository signs patients' links."""
    kept = ROOT / "var" / "secret_key"
    key = _signing_key(DJANGO_DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert kept.read_text().strip() == key
    assert kept.stat().st_mode & 0o777 == 0o600
    assert len(key) >= 50
    # Nothing in the repository (settings, docs, scripts) holds it.
    tracked = subprocess.run(
        ["git", "grep", "-l", "-F", key], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert tracked.stdout == ""
    ignored = subprocess.run(["git", "check-ignore", "-q", str(kept)], cwd=ROOT, check=False)
    assert ignored.returncode == 0
    # The next start (web, worker, beat, manage.py) signs with the same key.
    assert _signing_key(DJANGO_DEBUG="1") == key


def test_the_generated_key_is_made_once_private_and_then_reused(tmp_path: Path):
    path = tmp_path / "var" / "secret_key"
    first = generated_secret_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert generated_secret_key(path) == first
    assert secret_key_weakness(first) == ""
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    other = generated_secret_key(tmp_path / "elsewhere" / "secret_key")
    assert other != first


def test_a_damaged_generated_key_file_stops_start_up_with_its_path(tmp_path: Path):
    path = tmp_path / "secret_key"
    path.write_text("\n")
    with pytest.raises(ImproperlyConfigured, match="does not hold a usable secret key"):
        generated_secret_key(path)


def test_no_signing_key_is_written_in_the_settings():
    """Only test runs may sign with a fixed key, and it is set in the test block only."""
    source = (ROOT / "clinic" / "settings.py").read_text()
    before_tests, _test_block = source.split("\nif TESTING:\n", 1)
    assert not re.search(r"SECRET_KEY\s*=\s*[\"']", before_tests)
    assert "_DEV_SECRET" not in source
