"""Every write to patients, clinical records and appointments lands in the audit trail."""

from __future__ import annotations

from typing import Any

import pytest

from bookings import services as booking_services
from clinic import audit
from clinic.models import AuditAction, AuditEntry
from tests.bookings.builders import MONDAY, crystal_with_room, local, open_clinic, working_week

pytestmark = pytest.mark.django_db


@pytest.fixture
def bookable(time_machine: Any, practitioner: Any) -> Any:
    time_machine.move_to(local(MONDAY, 8), tick=False)
    open_clinic()
    working_week(practitioner)
    return crystal_with_room()


def _entries(object_type: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type=object_type).order_by("seq"))


def test_booking_and_moving_an_appointment_are_audited_with_before_and_after(
    bookable: Any, practitioner: Any, patient: Any, receptionist: Any
):
    appointment = booking_services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
        booked_by=receptionist,
    )
    booking_services.appointment_reschedule(
        appointment=appointment, starts_at=local(MONDAY, 11), changed_by=receptionist
    )
    booking_services.appointment_cancel(
        appointment=appointment, cancelled_by=receptionist, reason="Patient unwell"
    )

    created, moved, cancelled = _entries("bookings.appointment")
    assert (created.action, created.patient_id, created.object_id) == (
        AuditAction.CREATE,
        patient.pk,
        str(appointment.pk),
    )
    assert audit.decoded(created.after)["patient_id"] == patient.pk
    assert moved.action == AuditAction.CHANGE
    assert audit.decoded(moved.before)["starts_at"].startswith("2026-03-23T10:00")
    assert audit.decoded(moved.after)["starts_at"].startswith("2026-03-23T11:00")
    assert audit.decoded(cancelled.before) == {"status": "booked"}
    assert audit.decoded(cancelled.after) == {"status": "cancelled"}
    assert "Patient unwell" in cancelled.detail
    assert audit.verify_chain().ok
