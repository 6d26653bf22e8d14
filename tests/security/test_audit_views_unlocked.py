"""Reading a record is audited without queueing every request on the chain's lock row.

View entries are written at once without ``seq``/hash and sealed into the chain later, in
the order they were written; the chain still verifies and the guards still hold.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from clinic import audit, tasks
from clinic.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db


def test_recording_a_view_takes_no_lock_on_the_audit_chain(patient: Any):
    with CaptureQueriesContext(connection) as queries:
        audit.record_view(patient)

    statements = [query["sql"].lower() for query in queries.captured_queries]
    assert not [sql for sql in statements if "auditchainlock" in sql or "for update" in sql]
    assert len(statements) == 1  # the insert of the entry, nothing read first


def test_a_view_is_in_the_trail_at_once_and_pending_until_sealed(patient: Any):
    audit.record_view(patient, detail="opened the record")

    entry = AuditEntry.objects.get(action=AuditAction.VIEW)
    assert (entry.seq, entry.hash, entry.patient_id) == (None, "", patient.pk)
    report = audit.verify_chain()
    assert (report.ok, report.count, report.pending) == (True, 0, 1)


def test_views_are_sealed_into_the_chain_in_the_order_they_were_written(patient: Any):
    audit.record(action=AuditAction.CREATE, obj=patient, after=audit.snapshot(patient))
    audit.record_view(patient, detail="first look")
    audit.record_view(patient, detail="second look")
    audit.record(action=AuditAction.EXPORT, obj=patient, detail="export")

    assert audit.seal_pending() == 2
    assert audit.seal_pending() == 0

    chain = list(AuditEntry.objects.order_by("seq"))
    assert [(entry.seq, entry.detail) for entry in chain] == [
        (1, ""),
        (2, "export"),
        (3, "first look"),
        (4, "second look"),
    ]
    assert [entry.prev_hash for entry in chain[1:]] == [entry.hash for entry in chain[:-1]]
    report = audit.verify_chain()
    assert (report.ok, report.count, report.pending) == (True, 4, 0)


def test_a_write_after_sealing_continues_the_chain(patient: Any):
    audit.record_view(patient)
    audit.seal_pending()
    entry = audit.record(action=AuditAction.EXPORT, obj=patient, detail="export")

    assert entry is not None
    assert entry.seq == 2
    assert audit.verify_chain().ok


def test_the_beat_task_seals_pending_views(patient: Any):
    audit.record_view(patient)

    assert tasks.seal_audit_views() == 1
    assert AuditEntry.objects.get().seq == 1


def test_verify_command_seals_pending_views_before_verifying(patient: Any, capsys: Any):
    audit.record_view(patient)
    audit.record_view(patient)

    call_command("verify_audit_chain")

    out = capsys.readouterr().out
    assert "Sealed 2 pending view entries" in out
    assert "OK: 2 audit entries verified" in out


def test_the_database_refuses_to_reseal_a_sealed_entry(patient: Any):
    audit.record_view(patient)
    audit.seal_pending()
    entry = AuditEntry.objects.get()

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE clinic_auditentry SET seq = 7 WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get().seq == 1


def test_the_database_refuses_to_change_a_pending_entry_beyond_sealing(patient: Any):
    audit.record_view(patient)
    entry = AuditEntry.objects.get()

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE clinic_auditentry SET seq = 1, prev_hash = 'x', hash = 'y',"
            " actor_username = 'someone' WHERE id = %s",
            [entry.pk],
        )
    assert AuditEntry.objects.get().actor_username == entry.actor_username


def test_the_report_shows_a_pending_view_among_the_writes_of_its_time(patient: Any):
    audit.record(action=AuditAction.CREATE, obj=patient, after=audit.snapshot(patient))
    audit.record_view(patient)
    audit.record(action=AuditAction.EXPORT, obj=patient, detail="export")

    rows = list(audit.report_entries())

    assert [row.action for row in rows] == [
        AuditAction.EXPORT,
        AuditAction.VIEW,
        AuditAction.CREATE,
    ]
