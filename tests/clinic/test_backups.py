"""Backups that restore: made from the live database, rotated, and proved by a restore drill.

Transactional tests: pg_dump reads the database from another connection, so the rows must be
committed. The same tests run on SQLite (the online backup API) and PostgreSQL (pg_dump).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from clinic import backups
from clinic.models import AuditEntry, Patient
from tests.builders import assess
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clinic_records(practitioner: Any) -> Patient:
    """A patient with a signed assessment: rows in several main tables and audit entries."""
    patient = PatientFactory(given_name="Ada", family_name="Backup")
    assess(patient, by=practitioner.user)
    return patient


def drill_output(backup: Path | None, backup_dir: Path) -> tuple[bool, str]:
    out = StringIO()
    args = [str(backup)] if backup else []
    try:
        call_command("restore_drill", *args, "--dir", str(backup_dir), stdout=out)
    except CommandError as error:
        return False, out.getvalue() + str(error)
    return True, out.getvalue()


def test_a_backup_restores_into_a_throwaway_database_with_every_row_and_the_audit_chain(
    clinic_records: Patient, tmp_path: Path
):
    call_command("backup_now", "--dir", str(tmp_path), stdout=StringIO())
    [backup] = backups.backups_in(tmp_path)
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["row_counts"]["clinic_patient"] == Patient.objects.count()
    assert manifest["row_counts"]["clinic_auditentry"] == AuditEntry.objects.count() > 0
    expected_file = "database.dump" if connection.vendor == "postgresql" else "database.sqlite3"
    assert manifest["database_file"] == expected_file

    passed, output = drill_output(None, tmp_path)

    assert passed, output
    assert "row counts match the manifest" in output
    assert "audit chain verifies" in output
    assert "Restore drill passed." in output
    # The throwaway database is gone and the live one untouched.
    assert not [alias for alias in connections.databases if alias.startswith("restore_drill")]
    assert Patient.objects.filter(family_name="Backup").count() == 1


def test_rotation_keeps_only_the_newest_backups(clinic_records: Patient, tmp_path: Path):
    start = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    made = [
        backups.backup_create(backup_dir=tmp_path, now=start + timedelta(days=day))
        for day in range(4)
    ]

    removed = backups.backup_rotate(backup_dir=tmp_path, keep=2)

    assert removed == made[:2]
    assert sorted(tmp_path.iterdir()) == made[2:]


def test_backup_now_rotates_to_backup_keep(clinic_records: Patient, tmp_path: Path, settings: Any):
    settings.BACKUP_DIR = tmp_path
    settings.BACKUP_KEEP = 1
    old = backups.backup_create(backup_dir=tmp_path, now=datetime(2026, 1, 1, tzinfo=UTC))

    call_command("backup_now", stdout=StringIO())

    [kept] = backups.backups_in(tmp_path)
    assert kept != old


def test_a_damaged_backup_fails_the_drill(clinic_records: Patient, tmp_path: Path):
    backup = backups.backup_create(backup_dir=tmp_path)
    dump = backup / json.loads((backup / "manifest.json").read_text())["database_file"]
    data = bytearray(dump.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = b"\xff" * 64
    dump.write_bytes(bytes(data))

    passed, output = drill_output(backup, tmp_path)

    assert not passed
    assert "checksum differs from the manifest" in output
    assert "Restore drill FAILED" in output


def test_a_backup_missing_rows_its_manifest_recorded_fails_the_drill(
    clinic_records: Patient, tmp_path: Path
):
    backup = backups.backup_create(backup_dir=tmp_path)
    manifest_path = backup / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["row_counts"]["clinic_patient"] += 1
    manifest_path.write_text(json.dumps(manifest))

    passed, output = drill_output(backup, tmp_path)

    assert not passed
    recorded = manifest["row_counts"]["clinic_patient"]
    assert f"clinic_patient: {recorded - 1} rows, manifest says {recorded}" in output


def test_a_backup_of_an_audit_trail_edited_below_the_app_fails_the_drill(
    clinic_records: Patient, tmp_path: Path
):
    first = AuditEntry.objects.filter(seq__isnull=False).order_by("seq").first()
    with connection.cursor() as cursor:
        # What someone with database access could do, past the append-only trigger.
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE clinic_auditentry DISABLE TRIGGER USER")
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'clinic_audit_append_only'")
            [trigger_sql] = cursor.fetchone()
            cursor.execute("DROP TRIGGER clinic_audit_append_only")
        cursor.execute(
            "UPDATE clinic_auditentry SET actor_username = %s WHERE id = %s", ["nobody", first.pk]
        )
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE clinic_auditentry ENABLE TRIGGER USER")
        else:
            cursor.execute(trigger_sql)
    backup = backups.backup_create(backup_dir=tmp_path)

    passed, output = drill_output(backup, tmp_path)

    assert not passed
    assert "row counts match the manifest" in output
    assert f"FAIL audit chain broken at seq {first.seq} (id {first.pk})" in output


def test_the_beat_task_writes_a_backup(clinic_records: Patient, tmp_path: Path, settings: Any):
    from clinic.tasks import backup_database

    settings.BACKUP_DIR = tmp_path

    backup_database.delay()

    assert len(backups.backups_in(tmp_path)) == 1
