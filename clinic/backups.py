"""Backups that restore: a consistent copy of the database plus stored files, and a drill.

``backup_create`` writes ``<BACKUP_DIR>/<UTC timestamp>/`` with

- ``database.dump`` (PostgreSQL, ``pg_dump -Fc``) or ``database.sqlite3`` (SQLite's online
  backup API: a file copy of a live database can catch a half-written page);
- ``media.tar.gz`` when the stored-files folder exists;
- ``manifest.json``: the engine, each file's SHA-256 and the row count of every main table,
  counted in the same snapshot the dump was taken from.

The folder is written under a temporary name and renamed when complete, so rotation and the
drill never see half a backup. ``backup_rotate`` keeps the newest ``BACKUP_KEEP``.

``restore_drill`` restores a backup into a throwaway database (a temporary SQLite file, or a
temporary PostgreSQL database on the same server, dropped afterwards), compares row counts
with the manifest and verifies the audit chain there. The live database is never touched.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.dump"
MEDIA_FILE = "media.tar.gz"
# The apps whose tables hold the clinic's records (users, roles and 2FA devices included).
MAIN_APPS = ("auth", "otp_totp", "clinic", "treatments", "bookings")
BACKUP_NAME = re.compile(r"^\d{8}T\d{6}Z$")


class BackupError(Exception):
    """A backup or drill could not be made; the message says why, without secrets."""


@dataclass
class DrillReport:
    backup: Path
    ok: bool = True
    lines: list[str] = field(default_factory=list)

    def fail(self, line: str) -> None:
        self.ok = False
        self.lines.append(f"FAIL {line}")

    def passed(self, line: str) -> None:
        self.lines.append(f"ok   {line}")


def main_tables() -> list[str]:
    """The database tables counted in every manifest, sorted."""
    tables: set[str] = set()
    for label in MAIN_APPS:
        with contextlib.suppress(LookupError):
            for model in apps.get_app_config(label).get_models(include_auto_created=True):
                if model._meta.managed and not model._meta.proxy:
                    tables.add(model._meta.db_table)
    return sorted(tables)


def stored_files_dir() -> Path:
    media_root = getattr(settings, "MEDIA_ROOT", "")
    return Path(media_root) if media_root else Path(settings.BASE_DIR) / "var" / "media"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def count_rows(cursor: Any, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - names from our models
        counts[table] = int(cursor.fetchone()[0])
    return counts


def postgres_binary(name: str) -> str:
    """The newest ``pg_dump``/``pg_restore`` (a newer client reads every older server)."""
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: int(re.sub(r"\D", "", Path(path).parts[-3]) or 0),
    )
    found = candidates[-1] if candidates else shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client (postgresql-client).")
    return found


def _postgres_params(settings_dict: dict[str, Any], *, dbname: str | None = None) -> dict:
    params = {
        "dbname": dbname or settings_dict["NAME"],
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": str(settings_dict.get("PORT") or "") or None,
    }
    return {key: value for key, value in params.items() if value is not None}


def _postgres_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    """The client's environment: the password travels in PGPASSWORD, never on a command line."""
    environment = dict(os.environ)
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        if settings_dict.get(key):
            environment[variable] = str(settings_dict[key])
    return environment


def _run(command: list[str], *, env: dict[str, str]) -> None:
    # A damaged dump makes pg_restore echo raw bytes: read them leniently, never crash on them.
    result = subprocess.run(  # noqa: S603 - our own tool paths, no shell
        command, env=env, capture_output=True, text=True, errors="replace", check=False
    )
    if result.returncode != 0:
        tool = Path(command[0]).name
        raise BackupError(f"{tool} failed ({result.returncode}): {result.stderr.strip()[-500:]}")


def _is_postgres(settings_dict: dict[str, Any]) -> bool:
    return settings_dict["ENGINE"] == "django.db.backends.postgresql"


def _dump_postgres(settings_dict: dict[str, Any], target: Path) -> dict[str, int]:
    """pg_dump from an exported snapshot, counting rows in that same snapshot."""
    with psycopg.connect(**_postgres_params(settings_dict)) as snapshot_holder:
        snapshot_holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor = snapshot_holder.cursor()
        # Types: SELECT pg_export_snapshot() always returns one row.
        snapshot = cursor.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        counts = count_rows(cursor, main_tables())
        _run(
            [
                postgres_binary("pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={target}",
                settings_dict["NAME"],
            ],
            env=_postgres_env(settings_dict),
        )
        snapshot_holder.rollback()
    return counts


def _dump_sqlite(alias: str, target: Path) -> dict[str, int]:
    """SQLite's online backup API, from Django's own connection (in-memory databases too)."""
    connection = connections[alias]
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        # Counted in the copy: exactly the state the backup holds.
        counts = count_rows(copy.cursor(), main_tables())
    finally:
        copy.close()
    return counts


def backup_create(
    *, backup_dir: Path, now: datetime | None = None, using: str = DEFAULT_DB_ALIAS
) -> Path:
    """Write one complete backup folder and return it.

    Invariant: a folder with a name of the backup pattern is complete (manifest last, then an
    atomic rename), and its manifest's counts describe exactly the dump beside it.
    """
    now = now or datetime.now(tz=UTC)
    name = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    backup_dir.mkdir(parents=True, exist_ok=True)
    final = backup_dir / name
    if final.exists():
        raise BackupError(f"a backup named {name} already exists")
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=backup_dir))
    try:
        settings_dict = connections[using].settings_dict
        if _is_postgres(settings_dict):
            database_file = POSTGRES_FILE
            counts = _dump_postgres(settings_dict, work / database_file)
        else:
            database_file = SQLITE_FILE
            counts = _dump_sqlite(using, work / database_file)
        files = [database_file]
        media = stored_files_dir()
        if media.is_dir():
            with tarfile.open(work / MEDIA_FILE, "w:gz") as archive:
                archive.add(media, arcname="media")
            files.append(MEDIA_FILE)
        manifest = {
            "created_at": now.astimezone(UTC).isoformat(),
            "engine": "postgresql" if database_file == POSTGRES_FILE else "sqlite",
            "database_file": database_file,
            "sha256": {file: _sha256(work / file) for file in files},
            "row_counts": counts,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        work.chmod(0o700)
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return final


def backups_in(backup_dir: Path) -> list[Path]:
    """Complete backups, oldest first."""
    if not backup_dir.is_dir():
        return []
    return sorted(
        path
        for path in backup_dir.iterdir()
        if path.is_dir() and BACKUP_NAME.match(path.name) and (path / MANIFEST).is_file()
    )


def backup_rotate(*, backup_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups; returns the deleted folders."""
    doomed = backups_in(backup_dir)[:-keep] if keep > 0 else []
    for path in doomed:
        shutil.rmtree(path)
    return doomed


@contextlib.contextmanager
def _restored_postgres(settings_dict: dict[str, Any], dump: Path) -> Iterator[str]:
    """A temporary database on the live one's server holding the dump; dropped afterwards."""
    drill_db = f"clinic_restore_drill_{uuid.uuid4().hex[:12]}"
    admin = _postgres_params(settings_dict, dbname="postgres")
    with psycopg.connect(**admin, autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{drill_db}"')
    try:
        _run(
            [
                postgres_binary("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                f"--dbname={drill_db}",
                str(dump),
            ],
            env=_postgres_env(settings_dict),
        )
        yield drill_db
    finally:
        with psycopg.connect(**admin, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{drill_db}" WITH (FORCE)')


def restore_drill(*, backup: Path, using: str = DEFAULT_DB_ALIAS) -> DrillReport:
    """Restore ``backup`` into a throwaway database and check it; the report says what held.

    Invariant: the live database is only read (for its server address), never written. The
    checks run in a child process whose DATABASE_URL names the copy, so no code path can
    reach the live database while they run.
    """
    report = DrillReport(backup=backup)
    try:
        manifest = json.loads((backup / MANIFEST).read_text())
        database_file = manifest["database_file"]
        expected_counts: dict[str, int] = manifest["row_counts"]
        checksums: dict[str, str] = manifest["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        report.fail(f"manifest unreadable: {type(error).__name__}: {error}")
        return report
    for file, expected in sorted(checksums.items()):
        path = backup / file
        if not path.is_file():
            report.fail(f"{file}: missing")
        elif _sha256(path) != expected:
            report.fail(f"{file}: checksum differs from the manifest (damaged)")
        else:
            report.passed(f"{file}: checksum matches")

    settings_dict = connections[using].settings_dict
    with tempfile.TemporaryDirectory(prefix="restore-drill-") as scratch:
        try:
            with contextlib.ExitStack() as stack:
                if database_file == POSTGRES_FILE:
                    if not _is_postgres(settings_dict):
                        raise BackupError("a PostgreSQL backup needs DATABASE_URL on PostgreSQL")
                    drill_db = stack.enter_context(
                        _restored_postgres(settings_dict, backup / database_file)
                    )
                    database_url = _postgres_url(settings_dict, drill_db)
                else:
                    copy = Path(scratch) / SQLITE_FILE
                    shutil.copyfile(backup / database_file, copy)
                    _check_sqlite_integrity(copy)
                    database_url = f"sqlite:///{copy}"
                report.passed(f"restored into a throwaway database ({manifest['engine']})")
                _check_restored(report, database_url, expected_counts)
        except (BackupError, OSError, sqlite3.Error, psycopg.Error) as error:
            report.fail(f"restore: {error}")
    return report


def _postgres_url(settings_dict: dict[str, Any], name: str) -> str:
    user = quote(str(settings_dict.get("USER") or ""), safe="")
    password = quote(str(settings_dict.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(name)}"


def _check_sqlite_integrity(path: Path) -> None:
    copy = sqlite3.connect(path)
    try:
        result = copy.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        copy.close()
    if result != "ok":
        raise BackupError(f"SQLite integrity check: {result}")


def _check_restored(report: DrillReport, database_url: str, expected: dict[str, int]) -> None:
    """Row counts and the audit chain, read by the app's own code inside the copy."""
    environment = {**os.environ, "DATABASE_URL": database_url}
    result = subprocess.run(  # noqa: S603 - our own manage.py, no shell
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "inspect_restored_copy"],
        env=environment,
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
        timeout=3600,
    )
    try:
        found = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        report.fail(f"reading the restored copy failed: {result.stderr.strip()[-500:]}")
        return
    actual: dict[str, int] = found["row_counts"]
    mismatches = [
        f"{table}: {actual[table]} rows, manifest says {count}"
        if table in actual
        else f"{table}: missing from the restored copy"
        for table, count in sorted(expected.items())
        if actual.get(table) != count
    ]
    for mismatch in mismatches:
        report.fail(mismatch)
    if not mismatches:
        total = sum(expected.values())
        report.passed(f"row counts match the manifest: {len(expected)} tables, {total} rows")
    chain = found["chain"]
    if chain["ok"]:
        report.passed(f"audit chain verifies: {chain['count']} entries")
    else:
        report.fail(
            f"audit chain broken at seq {chain['broken_seq']} (id {chain['broken_id']}): "
            f"{chain['reason']}"
        )
