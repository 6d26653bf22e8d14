"""A long SMTP outage loses nothing that still matters: each message is retried (backoff capped)
for as long as it is worth sending, the outage shows on /healthz, the staff home and the
outbox, and what expired is never sent."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from bookings.models import Appointment, AppointmentStatus
from clinic import emails, messaging
from clinic.models import MailServerState, MessageKind, MessageStatus, OutboundMessage
from clinic.tasks import dispatch_due_messages
from tests.builders import ensure_catalogue, treatment_type
from tests.factories import PractitionerFactory, RoomFactory
from tests.smtp_sink import free_port, running_sink, smtp_settings

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 8, 9, 0, tzinfo=dt.UTC)


def appointment_at(patient: Any, starts_at: dt.datetime) -> Appointment:
    ensure_catalogue()
    return Appointment.objects.create(
        patient=patient,
        practitioner=PractitionerFactory(),
        room=RoomFactory(),
        treatment_type=treatment_type(),
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=30),
        blocked_until=starts_at + dt.timedelta(minutes=40),
        status=AppointmentStatus.BOOKED,
    )


def record(patient: Any, *, kind: str, subject: str, about: Any, due_at: Any = NOW) -> Any:
    with time_machine.travel(NOW, tick=False):  # recorded when it fell due
        message, _ = messaging.message_record(
            kind=kind,
            idempotency_key=f"{kind}:{subject}",
            patient=patient,
            recipient=patient.email,
            about=about,
            rendered=emails.RenderedEmail(subject=subject, text="Dear Zoë\n", html=""),
            due_at=due_at,
        )
    return message


def test_after_a_twenty_minute_outage_every_still_useful_message_arrives_once(
    patient, settings, client
):
    settings.MESSAGE_RETRY_BASE_SECONDS = 60
    settings.MESSAGE_RETRY_MAX_SECONDS = 600
    confirmation = record(
        patient,
        kind=MessageKind.BOOKING_CONFIRMATION,
        subject="Booked",
        about=appointment_at(patient, NOW + dt.timedelta(days=3)),
    )
    reminder = record(
        patient,
        kind=MessageKind.APPOINTMENT_REMINDER,
        subject="Reminder: in 2 hours",
        about=appointment_at(patient, NOW + dt.timedelta(hours=2)),
    )
    too_soon = record(
        patient,
        kind=MessageKind.APPOINTMENT_REMINDER,
        subject="Reminder: in 10 minutes",
        about=appointment_at(patient, NOW + dt.timedelta(minutes=10)),
    )
    aftercare = record(patient, kind=MessageKind.AFTERCARE, subject="Aftercare", about=patient)
    outage_health: dict[str, Any] = {}

    with running_sink() as sink:
        smtp_settings(settings, sink)
        for minute in range(46):
            moment = NOW + dt.timedelta(minutes=minute)
            # The mail server is down (nothing listens) for the first 20 minutes.
            settings.EMAIL_PORT = free_port() if minute < 20 else sink.port
            with time_machine.travel(moment, tick=False):
                dispatch_due_messages.delay()
                if minute == 19:
                    response = client.get("/healthz")
                    outage_health = {"status": response.status_code, "body": response.json()}
        with time_machine.travel(NOW + dt.timedelta(minutes=46), tick=False):
            recovered_health = client.get("/healthz").json()
        delivered = Counter(str(message["Subject"]) for message in sink.messages)

    assert delivered == {"Booked": 1, "Reminder: in 2 hours": 1, "Aftercare": 1}
    for message in (confirmation, reminder, aftercare):
        message.refresh_from_db()
        assert message.status == MessageStatus.SENT
        assert message.attempts == 6  # minutes 0, 1, 3, 7, 15 refused; 25 (capped) accepted
        assert message.sent_at == NOW + dt.timedelta(minutes=25)
    too_soon.refresh_from_db()
    assert too_soon.status == MessageStatus.EXPIRED
    assert "ConnectionRefusedError" in too_soon.last_error

    # During the outage /healthz says so (the pages still work: 200), without internals.
    assert outage_health["status"] == 200
    assert outage_health["body"]["status"] == "degraded"
    email = outage_health["body"]["email"]
    assert email["ok"] is False
    assert email["consecutive_failures"] >= 3
    assert email["oldest_waiting_minutes"] == 19
    body = json.dumps(outage_health["body"])
    assert "127.0.0.1" not in body
    assert str(settings.EMAIL_PORT) not in body
    assert "Refused" not in body
    assert recovered_health["email"]["ok"] is True
    assert recovered_health["email"]["consecutive_failures"] == 0


@pytest.mark.parametrize(
    ("kind", "starts_in", "useful_for"),
    [
        (MessageKind.APPOINTMENT_REMINDER, dt.timedelta(hours=2), dt.timedelta(hours=2)),
        (MessageKind.BOOKING_CONFIRMATION, dt.timedelta(days=10), dt.timedelta(days=3)),
        (MessageKind.BOOKING_CONFIRMATION, dt.timedelta(hours=5), dt.timedelta(hours=5)),
        (MessageKind.BOOKING_CANCELLED, dt.timedelta(days=1), dt.timedelta(days=1)),
        (MessageKind.CANCELLED_BY_CLINIC, dt.timedelta(hours=1), dt.timedelta(days=7)),
    ],
)
def test_a_message_is_worth_sending_for_its_kind_and_never_after_its_appointment_starts(
    patient, kind, starts_in, useful_for
):
    appointment = appointment_at(patient, NOW + starts_in)
    message = record(patient, kind=kind, subject="x", about=appointment)

    assert message.useful_until == NOW + useful_for


def test_a_pending_message_no_longer_worth_sending_expires_and_is_never_sent(patient, mailoutbox):
    reminder = record(
        patient,
        kind=MessageKind.APPOINTMENT_REMINDER,
        subject="Reminder",
        about=appointment_at(patient, NOW + dt.timedelta(hours=2)),
    )
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        outcome = messaging.message_send(message_id=reminder.pk)
        dispatch_due_messages.delay()

    assert outcome.status == MessageStatus.EXPIRED
    assert mailoutbox == []
    reminder.refresh_from_db()
    assert reminder.status == MessageStatus.EXPIRED


def an_outage(patient: Any, *, minutes: int) -> None:
    MailServerState.objects.create(
        pk=1, consecutive_failures=7, failing_since=NOW - dt.timedelta(minutes=minutes)
    )
    message = record(
        patient, kind=MessageKind.AFTERCARE, subject="Aftercare", about=patient, due_at=NOW
    )
    OutboundMessage.objects.filter(pk=message.pk).update(
        attempts=4, created_at=NOW - dt.timedelta(minutes=minutes), last_error="SMTP 421: down"
    )


@pytest.mark.parametrize("page", [reverse("home"), reverse("clinic:outbox_list")])
def test_staff_see_an_ongoing_outage_on_the_home_page_and_the_outbox(
    client, receptionist, patient, page
):
    an_outage(patient, minutes=18)
    client.force_login(receptionist)

    with time_machine.travel(NOW, tick=False):
        response = client.get(page)

    text = response.content.decode()
    assert 'data-testid="email-outage"' in text
    assert "Emails to patients are not going out." in text
    assert "failed the last 7 attempts over 18 minutes" in text
    assert "The oldest waiting email has waited 18 minutes." in text


def test_no_outage_banner_while_emails_go_out(client, receptionist, patient):
    record(patient, kind=MessageKind.AFTERCARE, subject="Aftercare", about=patient)
    client.force_login(receptionist)

    with time_machine.travel(NOW + dt.timedelta(minutes=2), tick=False):
        response = client.get(reverse("home"))

    assert b"email-outage" not in response.content
