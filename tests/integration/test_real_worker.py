"""The whole pipeline with nothing faked: Celery beat schedules the sweeps, a worker process
takes them from a real Redis, and the reminder travels over SMTP to an aiosmtpd sink."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from bookings.models import Appointment, AppointmentStatus
from clinic import emails
from clinic.models import MessageKind, MessageStatus, OutboundMessage
from tests.builders import ensure_catalogue, treatment_type
from tests.factories import PatientFactory, PractitionerFactory, RoomFactory
from tests.integration.conftest import SWEEP_SECONDS, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def appointment_in(delta: dt.timedelta, *, email: str) -> Appointment:
    """An appointment already in the diary (booked days ago, as the demo clinic's are)."""
    ensure_catalogue()
    starts_at = timezone.now() + delta
    return Appointment.objects.create(
        patient=PatientFactory(given_name="Zoë", email=email),
        practitioner=PractitionerFactory(display_name="Amara Okafor"),
        room=RoomFactory(name="Room 1"),
        treatment_type=treatment_type(),
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=30),
        blocked_until=starts_at + dt.timedelta(minutes=40),
        status=AppointmentStatus.BOOKED,
    )


def reminders_to(sink: Any, address: str) -> list[str]:
    return [subject for subject in sink.subjects_to(address) if subject.startswith("Reminder")]


def test_a_real_worker_and_beat_deliver_exactly_one_reminder(celery_processes, smtp_sink):
    address = "zoe.integration@patients.example"
    appointment = appointment_in(dt.timedelta(hours=1, minutes=50), email=address)
    celery_processes.start()

    arrived = wait_until(lambda: reminders_to(smtp_sink, address), timeout=40)
    assert arrived, "no reminder arrived within 40 seconds"
    # Two or three more sweeps must not send it again.
    sweeps_seen = OutboundMessage.objects.count()
    wait_until(lambda: False, timeout=SWEEP_SECONDS * 3)

    assert len(reminders_to(smtp_sink, address)) == 1
    assert OutboundMessage.objects.count() == sweeps_seen == 1
    message = OutboundMessage.objects.get()
    assert message.kind == MessageKind.APPOINTMENT_REMINDER
    assert message.status == MessageStatus.SENT
    assert message.object_id == appointment.pk
    [delivered] = [m for m in smtp_sink.messages if m["To"] == address]
    assert delivered["Message-ID"] == emails.message_id_for(message.idempotency_key)
    body = delivered.get_body(preferencelist=("plain",)).get_content()
    assert "Crystal microdermabrasion with Amara Okafor" in body


def test_a_real_worker_retries_after_a_451_and_delivers_once(celery_processes, smtp_sink):
    address = "liam.integration@patients.example"
    appointment_in(dt.timedelta(hours=1, minutes=45), email=address)
    smtp_sink.refuse_next(1)
    celery_processes.start()

    arrived = wait_until(lambda: reminders_to(smtp_sink, address), timeout=45)
    assert arrived, "the reminder was not delivered after the temporary refusal"
    wait_until(lambda: False, timeout=SWEEP_SECONDS * 2)

    assert len(reminders_to(smtp_sink, address)) == 1
    message = OutboundMessage.objects.get()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 2
