"""Strict readers for settings that come from the environment.

Each reader raises ``ImproperlyConfigured`` naming the variable when a value is
present but wrong, so a typo stops start-up instead of silently meaning "off".
"""

from __future__ import annotations

import builtins
import contextlib
import os
import secrets
import tempfile
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})

SECRET_KEY_MIN_LENGTH = 32
SECRET_KEY_MIN_DISTINCT = 5
# Words of keys published in docs and examples (this repository's old development key,
# .env.example's placeholder, Django's startproject keys): such a key signs nothing.
PLACEHOLDER_SECRET_WORDS = (
    "change-me",
    "changeme",
    "change_me",
    "insecure",
    "do-not-use",
    "replace-me",
    "your-secret",
)
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class Env:
    """Reads variables from a mapping (``os.environ`` by default)."""

    def __init__(self, source: Mapping[str, str] | None = None) -> None:
        self.source = os.environ if source is None else source

    def raw(self, name: str) -> str | None:
        value = self.source.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def str(self, name: str, default: str | None = None, *, required: bool = False) -> str:
        value = self.raw(name)
        if value is None:
            if required or default is None:
                raise ImproperlyConfigured(f"{name} must be set.")
            return default
        return value

    def secret_key(self, name: builtins.str) -> builtins.str | None:
        """The signing key from ``name``, refused when it is weak or a published example."""
        value = self.raw(name)
        if value is None:
            return None
        problem = secret_key_weakness(value)
        if problem:
            raise ImproperlyConfigured(
                f"{name} is too weak: {problem}. Set a long random value, e.g. the output of "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(50))', or unset it "
                "on a development machine (make run then keeps a generated one in "
                "var/secret_key)."
            )
        return value

    def bool(self, name: builtins.str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        word = value.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off."
        )

    def int(
        self,
        name: builtins.str,
        default: builtins.int,
        *,
        minimum: builtins.int | None = None,
        maximum: builtins.int | None = None,
    ) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
        if maximum is not None and number > maximum:
            raise ImproperlyConfigured(f"{name}={number} is above the maximum of {maximum}.")
        return number

    def int_list(self, name: builtins.str, default: list[builtins.int]) -> list[builtins.int]:
        value = self.raw(name)
        if value is None:
            return default
        try:
            numbers = [int(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}={value!r} must be whole numbers separated by commas."
            ) from None
        if not numbers or any(number <= 0 for number in numbers):
            raise ImproperlyConfigured(f"{name}={value!r} must list positive numbers.")
        return numbers

    def list(self, name: builtins.str, default: list[builtins.str]) -> list[builtins.str]:
        value = self.raw(name)
        if value is None:
            return default
        return [part.strip() for part in value.split(",") if part.strip()]

    def time_zone(self, name: builtins.str, default: builtins.str) -> builtins.str:
        value = self.raw(name) or default
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ImproperlyConfigured(
                f"{name}={value!r} is not a time zone name such as Europe/London."
            ) from None
        return value

    def database(self, name: builtins.str, *, default_sqlite: Path) -> dict[builtins.str, Any]:
        value = self.raw(name)
        if value is None:
            return sqlite_database(default_sqlite)
        scheme = urlsplit(value).scheme
        if scheme in {"sqlite", "sqlite3"}:
            path = unquote(urlsplit(value).path)
            if path.startswith("//"):
                path = path[1:]
            return sqlite_database(Path(path.lstrip("/") if not path.startswith("/") else path))
        if scheme not in {"postgres", "postgresql", "pgsql"}:
            raise ImproperlyConfigured(
                f"{name} must be a postgres:// or sqlite:/// URL (got scheme {scheme!r})."
            )
        try:
            config = environ.Env.db_url_config(value)
        except Exception as error:  # django-environ raises several types for malformed URLs
            raise ImproperlyConfigured(f"{name} is not a valid database URL: {error}") from None
        if not config.get("NAME"):
            raise ImproperlyConfigured(f"{name} must name a database (postgres://.../dbname).")
        config["ENGINE"] = "django.db.backends.postgresql"
        config.setdefault("CONN_MAX_AGE", 60)
        config["CONN_HEALTH_CHECKS"] = True
        # The app runs short queries: PostgreSQL's JIT compiles for 20-250 ms whenever a plan's
        # estimated cost passes jit_above_cost, far more than it can save (make bench showed
        # it on the calendar and due-list queries). A URL's own ?options=... wins.
        config.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
        return config

    def email(self, name: builtins.str, *, default_dir: Path) -> dict[builtins.str, Any]:
        """Parse ``EMAIL_URL`` into Django email settings."""
        value = self.raw(name)
        if value is None:
            return {
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": str(default_dir),
            }
        parts = urlsplit(value)
        scheme = parts.scheme
        query = parse_qs(parts.query)
        if scheme in {"smtp", "smtp+tls", "smtps", "submission"}:
            if not parts.hostname:
                raise ImproperlyConfigured(f"{name} must name a host, e.g. smtp://127.0.0.1:1025.")
            try:
                port = parts.port
            except ValueError:
                raise ImproperlyConfigured(f"{name} has a port that is not a number.") from None
            default_port = {"smtp": 25, "smtp+tls": 587, "submission": 587, "smtps": 465}[scheme]
            return {
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": parts.hostname,
                "EMAIL_PORT": port or default_port,
                "EMAIL_HOST_USER": unquote(parts.username or ""),
                "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
                "EMAIL_USE_TLS": scheme in {"smtp+tls", "submission"} or "tls" in query,
                "EMAIL_USE_SSL": scheme == "smtps",
            }
        if scheme == "console":
            return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
        if scheme == "locmem":
            return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
        if scheme == "file":
            path = unquote(parts.path) or str(default_dir)
            return {
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": path,
            }
        raise ImproperlyConfigured(
            f"{name} must start with smtp://, smtp+tls://, smtps://, file://, console:// or "
            f"locmem:// (got {value!r})."
        )

    def broker(
        self, name: builtins.str, *, default_dir: Path
    ) -> tuple[builtins.str, dict[builtins.str, Any]]:
        value = self.raw(name)
        if value is None:
            folder = default_dir / "broker"
            for sub in ("queue", "control"):
                # A damaged folder must not stop the web pages from starting: /healthz names
                # the broker, and a restarted worker or beat makes the folders again.
                with contextlib.suppress(OSError):
                    (folder / sub).mkdir(parents=True, exist_ok=True)
            return "filesystem://", {
                "data_folder_in": str(folder / "queue"),
                "data_folder_out": str(folder / "queue"),
                "control_folder": str(folder / "control"),
                "store_processed": False,
            }
        scheme = urlsplit(value).scheme
        if scheme not in {
            "redis",
            "rediss",
            "amqp",
            "amqps",
            "filesystem",
            "sqla+sqlite",
            "sqla+postgresql",
            "memory",
        }:
            raise ImproperlyConfigured(
                f"{name} must be a redis://, amqp:// or filesystem:// URL (got scheme {scheme!r})."
            )
        return value, {}


def secret_key_weakness(value: str) -> str:
    """Why ``value`` is too weak to sign links and sessions, or "" when it will do."""
    if len(value) < SECRET_KEY_MIN_LENGTH:
        return f"it has {len(value)} characters, fewer than {SECRET_KEY_MIN_LENGTH}"
    if len(set(value)) < SECRET_KEY_MIN_DISTINCT:
        return f"it uses fewer than {SECRET_KEY_MIN_DISTINCT} different characters"
    lowered = value.lower()
    for word in PLACEHOLDER_SECRET_WORDS:
        if word in lowered:
            return f"it contains {word!r}, like the published examples"
    return ""


def generated_secret_key(path: Path) -> str:
    """The key kept in ``path``, made (random, mode 0600) by the first process to need it.

    Web, worker and beat start together: the key is written to a private temporary file and
    linked into place, so a second process either sees the whole key or makes none.
    """
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        value = ""
    else:
        if secret_key_weakness(value):
            raise ImproperlyConfigured(
                f"{path} does not hold a usable secret key; delete it to make a new one "
                "(signed links and sessions made with the old one stop working)."
            )
        return value
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(50) + "\n")
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return generated_secret_key(path)


def sqlite_database(path: Path) -> dict[str, Any]:
    """SQLite tuned for several processes (web, worker, beat) writing at once."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # IMMEDIATE takes the write lock when a transaction starts, so two bookings
            # serialise instead of failing with "database is locked" at commit.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA busy_timeout=20000;"
                "PRAGMA foreign_keys=ON;"
            ),
        },
        # A file (not :memory:) so threads in concurrency tests share one database; the pid
        # keeps parallel test runs on one machine apart.
        "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"clinic-test-{os.getpid()}.sqlite3")},
    }
