"""The audit trail is append-only and tamper-evident; the command finds the first break."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction

from clinic import audit
from clinic.models import AuditAction, AuditEntry, AuditTrailIsAppendOnly, Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _three_entries(patient: Patient) -> list[AuditEntry]:
    before = audit.snapshot(patient)
    audit.record(action=AuditAction.CREATE, obj=patient, after=before)
    patient.family_name = "Adeyemi-Clarke"
    entry = audit.record(
        action=AuditAction.CHANGE, obj=patient, before=before, after=audit.snapshot(patient)
    )
    audit.record_view(patient)
    assert entry is not None
    assert audit.seal_pending() == 1
    return list(AuditEntry.objects.order_by("seq"))


def test_entries_chain_each_hash_to_the_previous_one(patient: Any):
    entries = _three_entries(patient)

    assert [entry.seq for entry in entries] == [1, 2, 3]
    assert entries[0].prev_hash == audit.GENESIS_HASH
    assert entries[1].prev_hash == entries[0].hash
    assert entries[2].prev_hash == entries[1].hash
    assert all(entry.patient_id == patient.pk for entry in entries)


def test_a_change_keeps_only_the_fields_that_changed(patient: Any):
    entries = _three_entries(patient)

    change = entries[1]
    assert audit.decoded(change.before) == {"family_name": "Adeyemi"}
    assert audit.decoded(change.after) == {"family_name": "Adeyemi-Clarke"}


def test_a_change_that_changed_nothing_records_nothing(patient: Any):
    values = audit.snapshot(patient)
    assert audit.record(action=AuditAction.CHANGE, obj=patient, before=values, after=values) is None
    assert AuditEntry.objects.count() == 0


def test_verify_command_prints_ok_with_the_count(patient: Any, capsys: Any):
    _three_entries(patient)

    call_command("verify_audit_chain")

    assert "OK: 3 audit entries verified" in capsys.readouterr().out


def _tamper(sql: str, params: list[Any]) -> None:
    """What someone with database access could do, below the application's guards."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE clinic_auditentry DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS clinic_audit_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE clinic_auditentry ENABLE TRIGGER USER")


def test_verify_command_names_the_first_edited_entry_and_fails(patient: Any):
    entries = _three_entries(patient)
    _tamper("UPDATE clinic_auditentry SET after = %s WHERE id = %s", ['{"x":1}', entries[1].pk])

    with pytest.raises(CommandError, match=rf"seq 2 \(id {entries[1].pk}\).*digest"):
        call_command("verify_audit_chain")


def test_verify_command_notices_a_deleted_entry(patient: Any):
    entries = _three_entries(patient)
    _tamper("DELETE FROM clinic_auditentry WHERE id = %s", [entries[1].pk])

    with pytest.raises(CommandError, match=r"seq 3.*missing"):
        call_command("verify_audit_chain")


def test_verify_command_notices_a_rewritten_actor(patient: Any):
    entries = _three_entries(patient)
    _tamper(
        "UPDATE clinic_auditentry SET actor_username = 'someone' WHERE id = %s", [entries[0].pk]
    )

    report = audit.verify_chain()

    assert (report.ok, report.broken_seq, report.count) == (False, 1, 0)
    assert "hash" in report.reason


def test_the_application_cannot_change_or_delete_entries(patient: Any):
    entry = _three_entries(patient)[0]

    entry.detail = "edited"
    with pytest.raises(AuditTrailIsAppendOnly):
        entry.save()
    with pytest.raises(AuditTrailIsAppendOnly):
        entry.delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(detail="edited")
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEntry.objects.all().delete()


def test_the_database_refuses_raw_updates_of_entries(patient: Any):
    entry = _three_entries(patient)[0]

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE clinic_auditentry SET actor_username = 'x' WHERE id = %s", [entry.pk]
        )
    assert AuditEntry.objects.get(pk=entry.pk).actor_username == entry.actor_username


def test_postgresql_refuses_raw_deletes_of_entries(patient: Any, is_postgres: bool):
    entry = _three_entries(patient)[0]
    if not is_postgres:
        # SQLite keeps DELETE open for Django's test flush; the application guard still holds.
        with pytest.raises(AuditTrailIsAppendOnly):
            entry.delete()
        return
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM clinic_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_redaction_blanks_the_payload_and_the_chain_still_verifies(patient: Any):
    entries = _three_entries(patient)
    from django.utils import timezone

    AuditEntry.objects.filter(pk=entries[1].pk)._redact_payloads(redacted_at=timezone.now())

    redacted = AuditEntry.objects.get(pk=entries[1].pk)
    assert (redacted.before, redacted.after) == ("", "")
    assert audit.verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_the_chain():
    patients = [PatientFactory() for _ in range(4)]
    errors: list[BaseException] = []

    def write(patient: Patient) -> None:
        try:
            for _ in range(5):
                audit.record_view(patient)
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(patient,)) for patient in patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert AuditEntry.objects.count() == 20
    assert audit.seal_pending() == 20
    report = audit.verify_chain()
    assert report.ok, report
    assert (report.count, report.pending) == (20, 0)
