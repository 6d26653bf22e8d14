"""Booking a whole series sends one email listing every session, with one .ics holding them
all (issue 12, leak 7), and no per-session confirmation besides."""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
import pytest
from django.core import mail
from django.test import TestCase

from bookings import selectors, services
from clinic.models import MessageKind, MessageStatus, OutboundMessage
from tests.builders import MONDAY, local, move, sent_to, series_after_sessions, sweep

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture
def booked(bookable: Any, patient: Any, practitioner: Any, receptionist: Any) -> list[Any]:
    series = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 35 * DAY, MONDAY - 14 * DAY],
    )
    sweep(local(MONDAY - 14 * DAY, 12))  # the sessions' aftercare went out on the day
    plan = selectors.series_proposals(series, now=local(MONDAY, 8))
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.series_book_remaining(
            series=series,
            plan=[
                services.PlannedSession(
                    starts_at=proposal.option.starts_at, practitioner=proposal.option.practitioner
                )
                for proposal in plan.proposals
            ],
            booked_by=receptionist,
        )


def test_booking_the_rest_of_a_series_sends_one_email_with_one_calendar_of_every_session(
    booked, patient
):
    # The notice sweep runs after the grace period, twice: it must add nothing.
    sweep(local(MONDAY, 8, 10))
    sweep(local(MONDAY, 8, 20))

    [email] = sent_to(patient.email)
    assert email.subject == "Your 4 Crystal microdermabrasion sessions are booked"
    for appointment in booked:
        assert (
            appointment.starts_at.astimezone(local(MONDAY, 8).tzinfo).strftime("%-d %B %Y at %H:%M")
            in email.body
        )
    [(filename, content, mimetype)] = email.attachments
    assert filename == "appointment.ics"
    assert mimetype.startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(content)
    events = calendar.walk("VEVENT")
    assert [event.decoded("DTSTART") for event in events] == [
        appointment.starts_at for appointment in booked
    ]
    assert [str(event["UID"]) for event in events] == [
        f"appointment-{appointment.pk}@clinic.example" for appointment in booked
    ]
    assert len({str(event["UID"]) for event in events}) == 4


def test_the_ledger_holds_the_series_email_once_and_skips_each_sessions_own_confirmation(
    booked, patient
):
    sweep(local(MONDAY, 8, 10))
    sweep(local(MONDAY, 8, 20))

    sent = (
        OutboundMessage.objects.filter(patient=patient)
        .exclude(status=MessageStatus.SKIPPED)
        .exclude(kind=MessageKind.AFTERCARE)  # of the sessions done before, sent on their day
    )
    assert [(message.kind, message.status) for message in sent] == [
        (MessageKind.BOOKING_CONFIRMATION, MessageStatus.SENT)
    ]
    [series_email] = sent
    skipped = OutboundMessage.objects.filter(
        patient=patient, kind=MessageKind.BOOKING_CONFIRMATION, status=MessageStatus.SKIPPED
    )
    assert sorted(message.object_id for message in skipped) == sorted(a.pk for a in booked)
    assert all(f"(message {series_email.pk})" in message.skip_reason for message in skipped)


def test_a_session_moved_after_the_series_email_gets_its_own_move_notice(booked, patient):
    sweep(local(MONDAY, 8, 10))
    last = booked[-1]

    move(last, last.starts_at + DAY, when=local(MONDAY, 9))
    sweep(local(MONDAY, 9, 10))

    moved = OutboundMessage.objects.filter(
        patient=patient, kind=MessageKind.BOOKING_RESCHEDULED, object_id=last.pk
    )
    assert [message.status for message in moved] == [MessageStatus.SENT]
    assert len(sent_to(patient.email)) == 2
