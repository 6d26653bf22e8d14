"""The audit chain is anchored outside the database: a trail cut back, emptied or rewritten
whole still verifies as a chain, but no longer matches the anchors, and verify says so."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clinic import audit, audit_anchors
from clinic.models import AuditAction, AuditEntry, Patient
from clinic.tasks import anchor_audit_chain
from tests.security.test_audit_chain import _tamper

pytestmark = pytest.mark.django_db


def _write(patient: Patient, count: int) -> None:
    for number in range(count):
        before = audit.snapshot(patient)
        patient.family_name = f"Adeyemi {number}"
        audit.record(
            action=AuditAction.CHANGE, obj=patient, before=before, after=audit.snapshot(patient)
        )


def _rewrite_chain_consistently() -> None:
    """Change one entry and recompute every hash after it: a valid chain, a false history."""
    entries = list(AuditEntry.objects.order_by("seq"))
    entries[1].actor_username = "someone-else"
    prev_hash = audit.GENESIS_HASH
    for entry in entries:
        entry.prev_hash = prev_hash
        entry.hash = audit.entry_hash(entry)
        _tamper(
            "UPDATE clinic_auditentry SET actor_username = %s, prev_hash = %s, hash = %s"
            " WHERE id = %s",
            [entry.actor_username, entry.prev_hash, entry.hash, entry.pk],
        )
        prev_hash = entry.hash


def test_verify_records_the_head_as_an_anchor_and_a_beat_task_keeps_it_moving(
    patient: Patient, capsys: Any
) -> None:
    _write(patient, 3)
    call_command("verify_audit_chain")
    _write(patient, 2)
    audit.record_view(patient)
    anchor_audit_chain()
    anchor_audit_chain()  # nothing new: no second line for the same head

    lines = audit_anchors.anchor_path().read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [3, 6]
    assert json.loads(lines[-1])["hash"] == AuditEntry.objects.get(seq=6).hash
    assert "OK: 3 audit entries verified; 0 anchors match." in capsys.readouterr().out


def test_cutting_off_the_last_entries_is_reported_against_the_anchor(patient: Patient) -> None:
    _write(patient, 5)
    anchor_audit_chain()
    _tamper("DELETE FROM clinic_auditentry WHERE seq > 3", [])

    assert audit.verify_chain().ok  # the chain alone cannot tell
    with pytest.raises(CommandError, match=r"seq 5, anchored at .* missing.* ends at seq 3"):
        call_command("verify_audit_chain")


def test_deleting_every_entry_is_reported_against_the_anchor(patient: Patient) -> None:
    _write(patient, 3)
    anchor_audit_chain()
    _tamper("DELETE FROM clinic_auditentry", [])

    assert audit.verify_chain().ok
    with pytest.raises(CommandError, match=r"seq 3, anchored at .* missing.* ends at seq 0"):
        call_command("verify_audit_chain")


def test_a_consistently_rewritten_chain_is_reported_against_the_anchor(patient: Patient) -> None:
    _write(patient, 4)
    anchor_audit_chain()
    _rewrite_chain_consistently()

    assert audit.verify_chain().ok
    with pytest.raises(CommandError, match=r"seq 4 no longer has the hash .* rewritten"):
        call_command("verify_audit_chain")


def test_a_cut_followed_by_new_entries_is_still_reported(patient: Patient) -> None:
    _write(patient, 4)
    anchor_audit_chain()
    _tamper("DELETE FROM clinic_auditentry WHERE seq > 2", [])
    _write(patient, 3)  # the trail grows past the anchored length again

    with pytest.raises(CommandError, match=r"seq 4 no longer has the hash .* rewritten"):
        call_command("verify_audit_chain")
    # ... and the beat task does not bless it: the old anchor stays the one that tells.
    anchor_audit_chain()
    assert not audit_anchors.check_anchors().ok
