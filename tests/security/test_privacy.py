"""GDPR: export everything about a patient (managers, audited); erase identity, keep records."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from clinic import audit, privacy
from clinic.models import AuditAction, AuditEntry, MessageStatus, OutboundMessage, Patient

pytestmark = pytest.mark.django_db


def _message(patient: Patient, status: str = MessageStatus.SENT, key: str = "m1") -> Any:
    return OutboundMessage.objects.create(
        kind="appointment_reminder",
        idempotency_key=key,
        patient=patient,
        recipient=patient.email,
        subject=f"See you soon, {patient.given_name}",
        body_text=f"Dear {patient.given_name} {patient.family_name}, ...",
        status=status,
        due_at=timezone.now(),
    )


def test_the_json_export_holds_details_messages_and_who_used_the_record(
    client: Client, manager: Any, patient: Any
):
    _message(patient)
    audit.record_view(patient)
    client.force_login(manager)

    response = client.get(f"/patients/{patient.pk}/privacy/export.json")

    assert response["Content-Disposition"] == f'attachment; filename="patient-{patient.pk}.json"'
    data = json.loads(response.content)
    assert data["patient"]["given_name"] == "Zoë"
    assert data["patient"]["email"] == "zoe@patients.example"
    assert data["messages"][0]["subject"] == "See you soon, Zoë"
    assert [line["action"] for line in data["access_log"]] == ["view"]
    export = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert (export.patient_id, export.actor_username) == (patient.pk, "malcolm")


def test_the_readable_export_page_shows_the_same_data(client: Client, manager: Any, patient: Any):
    _message(patient)
    client.force_login(manager)
    html = client.get(f"/patients/{patient.pk}/privacy/").content.decode()
    assert "Data held about Zoë Adeyemi" in html
    assert "zoe@patients.example" in html
    assert "See you soon, Zoë" in html
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT, patient_id=patient.pk).exists()


@pytest.mark.parametrize("fixture", ["receptionist", "practitioner_user"])
@pytest.mark.parametrize("suffix", ["privacy/", "privacy/export.json", "privacy/erase/"])
def test_only_managers_export_or_erase(
    client: Client, request: Any, patient: Any, fixture: str, suffix: str
):
    client.force_login(request.getfixturevalue(fixture))
    assert client.get(f"/patients/{patient.pk}/{suffix}").status_code == 403
    assert client.post(f"/patients/{patient.pk}/{suffix}", {"confirm": patient.pk}).status_code in {
        403,
        405,
    }
    patient.refresh_from_db()
    assert patient.erased_at is None


def test_erasing_removes_identity_and_message_contents_and_stops_sending(
    client: Client, manager: Any, patient: Any
):
    sent = _message(patient, key="sent")
    pending = _message(patient, MessageStatus.PENDING, key="pending")
    created = audit.record(action=AuditAction.CREATE, obj=patient, after=audit.snapshot(patient))
    client.force_login(manager)

    response = client.post(f"/patients/{patient.pk}/privacy/erase/", {"confirm": str(patient.pk)})

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.full_name == f"Erased patient #{patient.pk}"
    assert (patient.email, patient.phone, patient.notes, patient.search_text) == ("", "", "", "")
    assert patient.date_of_birth.month == 1
    assert patient.date_of_birth.day == 1
    assert not patient.email_reminders
    assert patient.erased_at is not None
    for message in (sent, pending):
        message.refresh_from_db()
        assert (message.recipient, message.subject, message.body_text) == ("", "", "")
    assert pending.status == MessageStatus.SKIPPED
    assert sent.status == MessageStatus.SENT
    created = AuditEntry.objects.get(pk=created.pk)
    assert created.after == ""
    assert created.redacted_at is not None
    erase = AuditEntry.objects.get(action=AuditAction.ERASE)
    assert "Zoë" not in erase.detail + erase.before + erase.after
    assert audit.verify_chain().ok
    # Nothing identifying is left anywhere in the patient's rows.
    export = privacy.patient_export(patient=patient)
    assert "Zoë" not in json.dumps(export, ensure_ascii=False)
    assert "zoe@patients.example" not in json.dumps(export)


def test_erasure_needs_the_patient_number_typed(client: Client, manager: Any, patient: Any):
    client.force_login(manager)
    response = client.post(f"/patients/{patient.pk}/privacy/erase/", {"confirm": "yes"})
    assert response.status_code == 400
    assert f"Type the patient number {patient.pk}" in response.content.decode()
    patient.refresh_from_db()
    assert patient.erased_at is None


def test_erasing_twice_is_refused_with_a_message(client: Client, manager: Any, patient: Any):
    privacy.patient_erase(patient_id=patient.pk)
    client.force_login(manager)
    response = client.post(f"/patients/{patient.pk}/privacy/erase/", {"confirm": str(patient.pk)})
    assert response.status_code == 400
    assert "already erased" in response.content.decode()


def test_a_registered_provider_exports_and_erases_its_part(patient: Any):
    calls: list[str] = []

    def export(subject: Patient) -> dict[str, Any]:
        return {"notes": [f"note about {subject.pk}"]}

    def erase(subject: Patient) -> dict[str, int]:
        calls.append("erase")
        return {"notes_blanked": 1}

    privacy.register_provider(
        privacy.PrivacyProvider(name="test_extra", title="Extra", export=export, erase=erase)
    )
    try:
        assert privacy.patient_export(patient=patient)["test_extra"] == {
            "notes": [f"note about {patient.pk}"]
        }
        counts = privacy.patient_erase(patient_id=patient.pk)
    finally:
        privacy._providers.pop("test_extra", None)
    assert calls == ["erase"]
    assert counts["test_extra_notes_blanked"] == 1


def test_erasure_keeps_clinical_records_cancels_what_is_booked_and_sends_nothing(
    practitioner: Any, patient: Any, time_machine: Any
):
    from django.core import mail

    from bookings import reminders
    from bookings.models import Appointment, AppointmentStatus
    from bookings.services import appointment_book
    from tests.builders import (
        MONDAY,
        crystal_with_room,
        local,
        open_clinic_business_hours,
        planned_series,
        signed_session,
        working_week,
    )
    from treatments.models import TreatmentSession

    time_machine.move_to(local(MONDAY, 8), tick=False)
    open_clinic_business_hours()
    working_week(practitioner)
    series = planned_series(patient, practitioner, start_on=MONDAY - dt.timedelta(days=21))
    session = signed_session(
        series, practitioner, local(MONDAY - dt.timedelta(days=21), 10), notes="Mild erythema"
    )
    appointment = appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=crystal_with_room(),
        starts_at=local(MONDAY + dt.timedelta(days=2), 10),
        booked_by=None,
        notes="Prefers Zoë, not Zoe",
    )
    assert AuditEntry.objects.filter(object_type="treatments.treatmentsession").exists()

    counts = privacy.patient_erase(patient_id=patient.pk)

    assert counts["bookings_appointments_cancelled"] == 1
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.notes == ""
    # The clinical record stays, detached from the identity, with its audit values.
    session = TreatmentSession.objects.get(pk=session.pk)
    assert session.notes == "Mild erythema"
    session_entries = AuditEntry.objects.filter(object_type="treatments.treatmentsession")
    assert all(entry.redacted_at is None for entry in session_entries)
    booking_entries = AuditEntry.objects.filter(object_type="bookings.appointment")
    assert booking_entries.count() == 2  # booked, then cancelled by the erasure
    assert all(entry.redacted_at is not None for entry in booking_entries)
    assert not AuditEntry.objects.filter(after__contains="Prefers").exists()
    # Every sweep now passes the patient by.
    mail.outbox.clear()
    sent_ids = reminders.sweep_all(now=local(MONDAY + dt.timedelta(days=1), 10))
    assert not OutboundMessage.objects.filter(pk__in=sent_ids, patient=patient).exists()
    assert all("zoe@patients.example" not in message.to for message in mail.outbox)
    assert Appointment.objects.filter(patient=patient).count() == 1
    assert audit.verify_chain().ok
