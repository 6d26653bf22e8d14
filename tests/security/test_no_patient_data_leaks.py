"""No patient data in Celery task payloads (ids only) or in logs.

A canary patient goes through booking, a move, reminders, a signed session with aftercare
and a cancellation; every log record (DEBUG and up) and every task payload is searched for
the canary's name, email and phone.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest
from celery.app.task import Task
from django.core import mail

from bookings import services as booking_services
from bookings.tasks import sweep_patient_messages
from tests.builders import (
    MONDAY,
    crystal_with_room,
    local,
    open_clinic_business_hours,
    planned_series,
    signed_session,
    working_week,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

CANARY = {
    "given_name": "Quillonetta",
    "family_name": "Canarywhistle",
    "email": "quillonetta.canary@patients.example",
    "phone": "+447700900777",
}


@pytest.fixture
def task_payloads(monkeypatch: Any) -> list[dict[str, Any]]:
    """Every task handed to Celery, as the broker would receive it (JSON)."""
    sent: list[dict[str, Any]] = []
    original = Task.apply_async

    def recording_apply_async(self: Task, args: Any = None, kwargs: Any = None, **options: Any):
        sent.append({"task": self.name, "payload": json.dumps({"args": args, "kwargs": kwargs})})
        return original(self, args=args, kwargs=kwargs, **options)

    monkeypatch.setattr(Task, "apply_async", recording_apply_async)
    return sent


def test_a_canary_patient_never_appears_in_logs_or_task_payloads(
    caplog: Any,
    task_payloads: list[dict[str, Any]],
    practitioner: Any,
    receptionist: Any,
    time_machine: Any,
    django_capture_on_commit_callbacks: Any,
):
    caplog.set_level(logging.DEBUG)
    time_machine.move_to(local(MONDAY, 8), tick=False)
    open_clinic_business_hours()
    working_week(practitioner)
    patient = PatientFactory(**CANARY)
    series = planned_series(patient, practitioner, start_on=MONDAY - dt.timedelta(days=21))

    with django_capture_on_commit_callbacks(execute=True):
        signed_session(series, practitioner, local(MONDAY - dt.timedelta(days=21), 10))
        appointment = booking_services.appointment_book(
            patient=patient,
            practitioner=practitioner,
            treatment_type=crystal_with_room(),
            starts_at=local(MONDAY + dt.timedelta(days=1), 15),
            booked_by=receptionist,
            series=series,
        )
        booking_services.appointment_reschedule(
            appointment=appointment, starts_at=local(MONDAY + dt.timedelta(days=1), 16)
        )
    sweep_patient_messages.delay()
    time_machine.move_to(local(MONDAY + dt.timedelta(days=1), 14, 30), tick=False)
    sweep_patient_messages.delay()
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.appointment_cancel(
            appointment=appointment, reason="Unwell", cancelled_by=receptionist
        )
    sweep_patient_messages.delay()

    # The flows really ran with the canary's data: emails went to the canary.
    assert any(CANARY["email"] in message.to for message in mail.outbox)
    assert any(payload["task"].endswith("send_message") for payload in task_payloads)
    for payload in task_payloads:
        decoded = json.loads(payload["payload"])
        values = [*(decoded["args"] or []), *(decoded["kwargs"] or {}).values()]
        assert all(isinstance(value, int) for value in values), payload
    haystacks = [payload["payload"] for payload in task_payloads]
    haystacks += [record.getMessage() for record in caplog.records]
    haystacks += [caplog.text]
    for secret in CANARY.values():
        leaks = [text for text in haystacks if secret.lower() in text.lower()]
        assert leaks == [], f"{secret} leaked: {leaks[:3]}"


def test_an_smtp_refusal_quoting_the_address_is_logged_without_it(
    caplog: Any, settings: Any, patient: Any
):
    from django.utils import timezone

    from clinic import messaging
    from clinic.models import MessageStatus, OutboundMessage
    from tests.smtp_sink import running_sink, smtp_settings

    caplog.set_level(logging.DEBUG)
    message = OutboundMessage.objects.create(
        kind="appointment_reminder",
        idempotency_key="canary-refused",
        patient=patient,
        recipient=patient.email,
        subject="Reminder",
        body_text="See you soon",
        due_at=timezone.now(),
    )
    with running_sink() as sink:
        smtp_settings(settings, sink)
        sink.refuse_recipient(patient.email)
        messaging.message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert patient.email in message.last_error  # the outbox page shows staff what failed
    # The SMTP server's own log (aiosmtpd's "mail.log") is the mail host's, not ours.
    ours = [record.getMessage() for record in caplog.records if record.name != "mail.log"]
    assert any("Giving up on appointment_reminder" in line for line in ours)
    assert not [line for line in ours if patient.email in line]
