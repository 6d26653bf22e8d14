"""Against a real SMTP server (aiosmtpd): a temporary refusal is retried after the backoff
and the reminder arrives exactly once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clinic.models import MessageKind, MessageStatus
from tests.builders import book, ledger, london, open_clinic_every_day, sweep
from tests.smtp_sink import running_sink, smtp_settings

pytestmark = pytest.mark.django_db

DUE = london(2026, 6, 8, 10)  # the 48-hour reminder of Wednesday 10 June 10:00


@pytest.fixture
def sink(settings: Any) -> Any:
    with running_sink() as running:
        smtp_settings(settings, running)
        yield running


def reminders(sink: Any, address: str) -> list[str]:
    return [subject for subject in sink.subjects_to(address) if subject.startswith("Reminder")]


def test_a_reminder_refused_with_451_is_retried_and_arrives_once(
    sink, settings, practitioner, patient
):
    settings.MESSAGE_RETRY_BASE_SECONDS = 60
    open_clinic_every_day(practitioner)
    book(patient, practitioner, london(2026, 6, 10, 10), when=london(2026, 6, 1, 12))
    sweep(london(2026, 6, 1, 12, 3))  # the booking confirmation goes through

    sink.refuse_next(1)
    sweep(DUE)
    [reminder] = ledger(kind=MessageKind.APPOINTMENT_REMINDER)
    assert reminder.status == MessageStatus.PENDING
    assert reminder.due_at == DUE + dt.timedelta(seconds=60)
    assert reminder.last_error == "SMTP 451: 4.3.0 Mailbox busy, try again later"
    assert reminders(sink, patient.email) == []

    sweep(DUE + dt.timedelta(seconds=30))  # not due yet: nothing is sent early
    assert reminders(sink, patient.email) == []

    for seconds in (60, 120, 180, 600):
        sweep(DUE + dt.timedelta(seconds=seconds))

    assert reminders(sink, patient.email) == [
        "Reminder: your appointment in 2 days, Wednesday 10 June 2026 at 10:00"
    ]
    reminder.refresh_from_db()
    assert reminder.status == MessageStatus.SENT
    assert reminder.attempts == 2
    assert reminder.last_error == ""
    assert reminder.sent_at == DUE + dt.timedelta(seconds=60)


def test_a_reminder_the_server_keeps_refusing_is_retried_until_its_appointment_then_expires(
    sink, settings, practitioner, patient
):
    settings.MESSAGE_RETRY_BASE_SECONDS = 60
    settings.MESSAGE_RETRY_MAX_SECONDS = 600
    open_clinic_every_day(practitioner)
    starts_at = london(2026, 6, 10, 10)
    book(patient, practitioner, starts_at, when=london(2026, 6, 1, 12))
    sweep(london(2026, 6, 1, 12, 3))
    sink.refuse_next(10_000)

    for minutes in (0, 1, 3, 7, 15, 25, 35):
        sweep(DUE + dt.timedelta(minutes=minutes))
    [two_days_before] = ledger(kind=MessageKind.APPOINTMENT_REMINDER)
    # Still retried after seven refusals (and a 35-minute outage), ten minutes apart at most.
    assert two_days_before.status == MessageStatus.PENDING
    assert two_days_before.attempts == 7
    assert two_days_before.due_at == DUE + dt.timedelta(minutes=45)

    for moment in (starts_at - dt.timedelta(hours=2), starts_at - dt.timedelta(minutes=5)):
        sweep(moment)
    sweep(starts_at + dt.timedelta(minutes=1))

    recorded = ledger(kind=MessageKind.APPOINTMENT_REMINDER)
    assert len(recorded) == 2
    assert {reminder.status for reminder in recorded} == {MessageStatus.EXPIRED}
    assert all("451" in reminder.last_error for reminder in recorded)
    assert reminders(sink, patient.email) == []
