"""Booking confirmation, move and cancellation notices: one per final state, after a grace."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.template import Context, Template

from bookings.models import AppointmentNotice
from bookings.notifications import appointment_changed
from bookings.services.appointments import appointment_reschedule
from clinic.models import MessageKind, MessageStatus
from tests.builders import (
    at,
    book,
    calendar_attached,
    calendar_event,
    cancel,
    confirm,
    ledger,
    london,
    move,
    open_clinic_every_day,
    sent_to,
    sweep,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

BOOKED_AT = london(2026, 6, 1, 12)
STARTS_AT = london(2026, 6, 10, 10)


@pytest.fixture
def clinic(practitioner: Any, second_practitioner: Any) -> Any:
    return open_clinic_every_day(practitioner, second_practitioner)


def test_booking_confirmation_goes_after_the_grace_period_with_a_calendar_file(
    clinic, practitioner, patient
):
    appointment = book(patient, practitioner, STARTS_AT, when=BOOKED_AT)
    sweep(BOOKED_AT + dt.timedelta(minutes=2, seconds=59))
    assert sent_to(patient.email) == []

    sweep(BOOKED_AT + dt.timedelta(minutes=3))
    sweep(BOOKED_AT + dt.timedelta(minutes=4))

    [confirmation] = sent_to(patient.email)
    assert confirmation.subject == "Your appointment on Wednesday 10 June 2026 at 10:00 is booked"
    event = calendar_event(confirmation)
    assert str(event["UID"]) == f"appointment-{appointment.pk}@clinic.example"
    assert event.decoded("SEQUENCE") == 1
    assert event.decoded("DTSTART") == STARTS_AT  # 10:00 BST, written in UTC
    assert event.decoded("DTSTART").utcoffset() == dt.timedelta(0)
    assert event.decoded("DTEND") == STARTS_AT + dt.timedelta(minutes=30)
    assert str(event["SUMMARY"]).startswith("Crystal microdermabrasion")
    assert str(event["LOCATION"])
    assert str(calendar_attached(confirmation)["METHOD"]) in {"PUBLISH", "REQUEST"}
    assert "/p/confirm/" in confirmation.body
    assert "/p/cancel/" in confirmation.body
    [row] = ledger(kind=MessageKind.BOOKING_CONFIRMATION)
    assert row.idempotency_key == f"confirmation:appointment:{appointment.pk}:1"


def test_booking_moved_within_the_grace_period_sends_one_confirmation_of_the_final_time(
    clinic, practitioner, patient
):
    appointment = book(patient, practitioner, STARTS_AT, when=BOOKED_AT)
    move(appointment, london(2026, 6, 11, 14), when=BOOKED_AT + dt.timedelta(minutes=2))
    sweep(BOOKED_AT + dt.timedelta(minutes=4))
    assert sent_to(patient.email) == []
    sweep(BOOKED_AT + dt.timedelta(minutes=5))
    sweep(BOOKED_AT + dt.timedelta(minutes=6))

    assert [message.subject for message in sent_to(patient.email)] == [
        "Your appointment on Thursday 11 June 2026 at 14:00 is booked"
    ]


def test_booking_cancelled_within_the_grace_period_sends_nothing(clinic, practitioner, patient):
    appointment = book(patient, practitioner, STARTS_AT, when=BOOKED_AT)
    cancel(appointment, when=BOOKED_AT + dt.timedelta(minutes=1), reason="Booked by mistake")
    sweep(BOOKED_AT + dt.timedelta(minutes=10))

    assert sent_to(patient.email) == []
    notice = AppointmentNotice.objects.get(pk=appointment.pk)
    assert notice.settled_version == notice.version == 2


def test_moving_a_confirmed_booking_sends_a_move_notice_with_the_old_and_new_time(
    clinic, practitioner, second_practitioner, patient
):
    appointment = book(patient, practitioner, STARTS_AT, when=BOOKED_AT)
    sweep(BOOKED_AT + dt.timedelta(minutes=3))
    with_jonas = london(2026, 6, 12, 9, 30)
    with at(BOOKED_AT + dt.timedelta(days=1)):
        appointment_reschedule(
            appointment=appointment, starts_at=with_jonas, practitioner=second_practitioner
        )
    sweep(BOOKED_AT + dt.timedelta(days=1, minutes=3))

    first, moved = sent_to(patient.email)
    assert moved.subject == "Your appointment has moved to Friday 12 June 2026 at 09:30"
    assert "It was Wednesday 10 June 2026 at 10:00" in moved.body
    assert "with Jonas Lindqvist" in moved.body
    first_event, moved_event = calendar_event(first), calendar_event(moved)
    uid = f"appointment-{appointment.pk}@clinic.example"
    assert str(first_event["UID"]) == str(moved_event["UID"]) == uid
    assert (first_event.decoded("SEQUENCE"), moved_event.decoded("SEQUENCE")) == (1, 2)
    assert moved_event.decoded("DTSTART") == with_jonas


def test_moving_there_and_back_within_the_grace_period_sends_nothing_new(
    clinic, practitioner, patient
):
    appointment = book(patient, practitioner, STARTS_AT, when=BOOKED_AT)
    sweep(BOOKED_AT + dt.timedelta(minutes=3))
    later = BOOKED_AT + dt.timedelta(days=1)
    appointment = move(appointment, london(2026, 6, 11, 10), when=later)
    move(appointment, STARTS_AT, when=later + dt.timedelta(minutes=1))
    sweep(later + dt.timedelta(minutes=10))

    assert len(sent_to(patient.email)) == 1


def test_cancellation_by_the_clinic_reaches_a_patient_who_opted_out_of_reminders(
    clinic, practitioner, opted_out_patient
):
    appointment = book(opted_out_patient, practitioner, STARTS_AT, when=BOOKED_AT)
    sweep(BOOKED_AT + dt.timedelta(minutes=3))
    cancel(appointment, when=BOOKED_AT + dt.timedelta(days=2), reason="Practitioner ill")
    sweep(BOOKED_AT + dt.timedelta(days=2, minutes=3))

    booked, cancelled = sent_to(opted_out_patient.email)
    assert booked.subject.endswith("is booked")
    assert cancelled.subject == "Your appointment on Wednesday 10 June 2026 at 10:00 is cancelled"
    calendar = calendar_attached(cancelled)
    [event] = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert event.decoded("SEQUENCE") == 2
    assert str(event["UID"]) == f"appointment-{appointment.pk}@clinic.example"
    assert event.decoded("DTSTART") == STARTS_AT


def test_patient_without_an_email_address_gets_a_skipped_notice_staff_can_see(clinic, practitioner):
    walk_in = PatientFactory(email="")
    book(walk_in, practitioner, STARTS_AT, when=BOOKED_AT)
    sweep(BOOKED_AT + dt.timedelta(minutes=3))

    assert mail.outbox == []
    [row] = ledger(kind=MessageKind.BOOKING_CONFIRMATION)
    assert row.status == MessageStatus.SKIPPED
    assert row.skip_reason == "No email address on file."


def test_confirming_an_appointment_sends_no_notice(clinic, practitioner, patient):
    appointment = book(patient, practitioner, STARTS_AT, when=BOOKED_AT)
    sweep(BOOKED_AT + dt.timedelta(minutes=3))
    confirm(appointment, when=BOOKED_AT + dt.timedelta(hours=1))
    sweep(BOOKED_AT + dt.timedelta(hours=1, minutes=5))

    assert len(sent_to(patient.email)) == 1


def test_an_appointment_booked_for_a_time_already_past_gets_no_notice(
    clinic, practitioner, patient
):
    book(patient, practitioner, STARTS_AT, when=BOOKED_AT)
    sweep(STARTS_AT + dt.timedelta(minutes=5))  # no worker ran for days

    assert sent_to(patient.email) == []


def test_booking_notices_name_the_treatment_and_nothing_clinical(clinic, practitioner, patient):
    appointment = book(
        patient, practitioner, STARTS_AT, when=BOOKED_AT, notes="Rosacea flare last month"
    )
    sweep(BOOKED_AT + dt.timedelta(minutes=3))

    [confirmation] = sent_to(patient.email)
    event_text = " ".join(str(value) for value in calendar_event(confirmation).values())
    assert "Crystal microdermabrasion" in str(calendar_event(confirmation)["SUMMARY"])
    everything = confirmation.body + confirmation.alternatives[0][0] + event_text
    assert "Crystal microdermabrasion" in everything
    assert "Rosacea" not in everything
    assert appointment.notes not in everything


def test_unknown_events_are_refused_loudly():
    with pytest.raises(ValueError, match="Unknown appointment event"):
        appointment_changed(appointment_id=1, event="teleported")


def test_the_appointment_page_partial_lists_its_emails_and_why_one_was_skipped(
    clinic, practitioner, patient, rf, django_assert_num_queries
):
    appointment = book(patient, practitioner, STARTS_AT, when=BOOKED_AT)
    sweep(BOOKED_AT + dt.timedelta(minutes=3))
    patient.email_reminders = False
    patient.save()
    sweep(london(2026, 6, 8, 10))
    request = rf.get(f"/appointments/{appointment.pk}/")

    with django_assert_num_queries(1):
        html = Template("{% load patient_messages %}{% appointment_messages appointment %}").render(
            Context({"appointment": appointment, "request": request})
        )

    assert "Booking confirmation" in html
    assert "Appointment reminder" in html
    assert "The patient has not consented to email reminders." in html
    assert f"?patient={patient.pk}" in html
