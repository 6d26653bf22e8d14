"""Every write to patients, clinical records and appointments lands in the audit trail."""

from __future__ import annotations

from typing import Any

import pytest

from bookings import services as booking_services
from clinic import audit
from clinic.models import AuditAction, AuditEntry
from tests.builders import (
    MONDAY,
    crystal_with_room,
    local,
    open_clinic_business_hours,
    working_week,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def bookable(time_machine: Any, practitioner: Any) -> Any:
    time_machine.move_to(local(MONDAY, 8), tick=False)
    open_clinic_business_hours()
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


def test_logging_signing_and_amending_a_session_are_audited(practitioner: Any, patient: Any):
    from tests.builders import logged_session, london, planned_series, session_record
    from treatments.services.sessions import session_amend, session_sign

    series = planned_series(patient, practitioner, start_on=london(2026, 3, 2).date())
    session = logged_session(series, practitioner, london(2026, 3, 2, 10), notes="First visit")
    session_sign(session=session, by=practitioner.user, now=london(2026, 3, 2, 11))
    session_amend(
        session=session,
        record=session_record(
            practitioner, london(2026, 3, 2, 10), notes="First visit, mild flush"
        ),
        reason="Forgot the flush",
        by=practitioner.user,
        now=london(2026, 3, 3, 9),
    )

    logged, signed, amended = _entries("treatments.treatmentsession")
    assert [logged.action, signed.action, amended.action] == ["create", "sign", "amend"]
    assert {logged.patient_id, signed.patient_id, amended.patient_id} == {patient.pk}
    assert audit.decoded(amended.before) == {"notes": "First visit"}
    assert audit.decoded(amended.after) == {"notes": "First visit, mild flush"}
    assert amended.detail == "Reason: Forgot the flush"
    (note,) = _entries("treatments.aftercarenote")
    assert (note.action, note.patient_id) == (AuditAction.CREATE, patient.pk)

    from bookings import reminders

    reminders.sweep_aftercare(now=london(2026, 3, 2, 12))
    import time_machine

    from clinic.models import OutboundMessage
    from clinic.tasks import send_message

    with time_machine.travel(london(2026, 3, 2, 12, 5), tick=False):
        send_message(OutboundMessage.objects.get(kind="aftercare").pk)
    reminders.sweep_aftercare(now=london(2026, 3, 2, 13))
    sent = _entries("treatments.aftercarenote")[-1]
    assert (audit.decoded(sent.before), audit.decoded(sent.after)) == (
        {"status": "sending"},
        {"status": "sent"},
    )
    assert audit.verify_chain().ok


def test_an_aftercare_email_that_expired_unsent_leaves_its_note_not_sent(
    practitioner: Any, patient: Any
):
    import time_machine

    from bookings import reminders
    from clinic.models import MessageStatus, OutboundMessage
    from tests.builders import london, planned_series, signed_session
    from treatments.models import AftercareNote

    series = planned_series(patient, practitioner, start_on=london(2026, 3, 2).date())
    signed_session(series, practitioner, london(2026, 3, 2, 10))
    reminders.sweep_aftercare(now=london(2026, 3, 2, 12))
    message = OutboundMessage.objects.get(kind="aftercare")
    with time_machine.travel(message.useful_until, tick=False):
        from clinic.tasks import send_message

        send_message(message.pk)
    message.refresh_from_db()
    assert message.status == MessageStatus.EXPIRED

    reminders.sweep_aftercare(now=london(2026, 3, 20, 12))

    assert AftercareNote.objects.get().status != "sending"


def test_discarding_a_draft_session_is_audited_with_what_it_held(practitioner: Any, patient: Any):
    from tests.builders import logged_session, london, planned_series
    from treatments.services.sessions import session_discard

    series = planned_series(patient, practitioner, start_on=london(2026, 3, 2).date())
    session = logged_session(
        series, practitioner, london(2026, 3, 2, 10), notes="Logged on the wrong file"
    )
    session_discard(session=session)

    deleted = _entries("treatments.treatmentsession")[-1]
    assert deleted.action == AuditAction.DELETE
    assert audit.decoded(deleted.before)["notes"] == "Logged on the wrong file"


def test_planning_changing_and_stopping_a_series_are_audited(practitioner: Any, patient: Any):
    from tests.builders import london, planned_series
    from treatments.services.series import series_stop, series_update_plan

    series = planned_series(patient, practitioner, start_on=london(2026, 3, 2).date())
    series_update_plan(
        series=series,
        planned_sessions=8,
        targeted_concerns=["uneven_texture"],
        start_on=series.start_on,
        today=series.start_on,
    )
    series_stop(series=series, reason="Moved abroad", by=practitioner.user, now=london(2026, 3, 3))

    planned, replanned, stopped = _entries("treatments.treatmentseries")
    assert (planned.action, planned.patient_id) == (AuditAction.CREATE, patient.pk)
    assert audit.decoded(replanned.before) == {"planned_sessions": 6}
    assert audit.decoded(replanned.after) == {"planned_sessions": 8}
    assert audit.decoded(stopped.after)["status"] == "stopped"


def test_clinical_pages_record_who_viewed_them(
    client: Any, practitioner: Any, patient: Any, receptionist: Any
):
    from tests.builders import london, planned_series

    series = planned_series(patient, practitioner, start_on=london(2026, 3, 2).date())
    client.force_login(practitioner.user)
    client.get(f"/patients/{patient.pk}/")
    client.get(f"/series/{series.pk}/")
    views = AuditEntry.objects.filter(action=AuditAction.VIEW).order_by("seq")
    assert [(entry.object_type, entry.actor_username) for entry in views] == [
        ("clinic.patient", "amara"),
        ("treatments.treatmentseries", "amara"),
    ]
    assert {entry.patient_id for entry in views} == {patient.pk}

    # A receptionist sees no clinical detail on these pages, so nothing clinical was viewed.
    client.force_login(receptionist)
    client.get(f"/patients/{patient.pk}/")
    client.get(f"/series/{series.pk}/")
    assert AuditEntry.objects.filter(action=AuditAction.VIEW).count() == 2


def test_session_and_aftercare_pages_record_who_read_them(
    client: Any, practitioner: Any, patient: Any
):
    from tests.builders import london, planned_series, signed_session

    series = planned_series(patient, practitioner, start_on=london(2026, 3, 2).date())
    session = signed_session(series, practitioner, london(2026, 3, 2, 10))
    client.force_login(practitioner.user)
    assert client.get(f"/sessions/{session.pk}/").status_code == 200
    assert client.get(f"/sessions/{session.pk}/aftercare/").status_code == 200

    views = AuditEntry.objects.filter(action=AuditAction.VIEW).order_by("seq")
    assert [(entry.object_type, entry.patient_id) for entry in views] == [
        ("treatments.treatmentsession", patient.pk),
        ("treatments.aftercarenote", patient.pk),
    ]


def test_reading_a_patients_clinical_summary_through_the_api_is_audited(
    client: Any, practitioner: Any, patient: Any
):
    from bookings.services.tokens import api_token_issue

    _, token = api_token_issue(username=practitioner.user.username, name="tablet")
    response = client.get(f"/api/patients/{patient.pk}", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    entry = AuditEntry.objects.get(action=AuditAction.VIEW)
    assert (entry.patient_id, entry.actor_username) == (patient.pk, "amara")
    assert entry.detail == "API: clinical summary"
