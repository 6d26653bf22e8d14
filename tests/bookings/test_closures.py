"""Closures and time off over booked appointments: refused in the past, no reminders for
appointments that cannot happen, and a bulk cancellation that emails each patient once with a
link to pick a new time."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from bookings import selfservice
from bookings.models import Appointment, AppointmentStatus, TimeOff
from bookings.rules import BookingError
from bookings.selfservice import LinkState
from bookings.services import availability
from bookings.services.closures import closure_appointments_cancel, time_off_appointments_cancel
from clinic.models import AuditAction, AuditEntry, ClinicClosure, MessageKind, MessageStatus
from tests.builders import (
    LONDON,
    at,
    book,
    ledger,
    london,
    open_clinic_every_day,
    sent_to,
    series_after_sessions,
    sweep,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

BOOKED_ON = london(2026, 6, 1, 12)
CLOSED_ON = dt.date(2026, 6, 10)


@pytest.fixture
def clinic(practitioner: Any) -> Any:
    return open_clinic_every_day(practitioner)


def close(day: dt.date, *, when: dt.datetime, reason: str = "Burst pipe") -> ClinicClosure:
    with at(when):
        closure, _ = availability.closure_add(date=day, reason=reason, tz=LONDON, now=when)
    return closure


def rebook_token(message: Any) -> str:
    [token] = re.findall(r"/p/rebook/([^/\s]+)/", message.body)
    return token


# -- refusing closures and time off in the past ----------------------------------------------


def test_a_closure_on_a_day_that_has_passed_is_refused_with_a_clear_message(clinic):
    with pytest.raises(BookingError) as refused:
        availability.closure_add(
            date=dt.date(2026, 6, 9), reason="Flood", tz=LONDON, now=london(2026, 6, 10, 0, 30)
        )
    assert refused.value.message == (
        "Tuesday 9 June 2026 has passed: a closure can only be added for today or a later day."
    )
    assert not ClinicClosure.objects.exists()


def test_a_closure_for_today_is_accepted_just_after_midnight_in_the_clinics_zone(clinic):
    # 23:30 UTC on the 9th is already the 10th in London (BST).
    closure, _ = availability.closure_add(
        date=CLOSED_ON,
        reason="Flood",
        tz=LONDON,
        now=dt.datetime(2026, 6, 9, 23, 30, tzinfo=dt.UTC),
    )
    assert closure.date == CLOSED_ON


def test_time_off_that_has_entirely_ended_is_refused(clinic, practitioner):
    with pytest.raises(BookingError, match="This time off has already ended"):
        availability.time_off_add(
            practitioner=practitioner,
            starts_at=london(2026, 6, 1, 9),
            ends_at=london(2026, 6, 1, 17),
            now=london(2026, 6, 2, 9),
        )
    assert not TimeOff.objects.exists()


def test_closures_and_time_off_are_audited_when_added_and_removed(clinic, practitioner):
    closure = close(CLOSED_ON, when=BOOKED_ON)
    entry, _ = availability.time_off_add(
        practitioner=practitioner,
        starts_at=london(2026, 6, 11, 9),
        ends_at=london(2026, 6, 11, 17),
        now=BOOKED_ON,
    )
    availability.closure_remove(closure=closure)
    availability.time_off_remove(entry=entry)
    entries = AuditEntry.objects.exclude(object_type__startswith="auth.").order_by("seq")
    assert list(entries.values_list("action", "object_type")) == [
        (AuditAction.CREATE, "clinic.clinicclosure"),
        (AuditAction.CREATE, "bookings.timeoff"),
        (AuditAction.DELETE, "clinic.clinicclosure"),
        (AuditAction.DELETE, "bookings.timeoff"),
    ]


# -- no reminders for appointments that cannot take place ------------------------------------


def test_the_sweep_sends_no_reminder_for_an_appointment_on_a_closed_day(
    clinic, practitioner, patient
):
    appointment = book(patient, practitioner, london(2026, 6, 10, 10), when=BOOKED_ON)
    close(CLOSED_ON, when=london(2026, 6, 2, 9))

    sweep(london(2026, 6, 8, 10))

    assert [m.subject for m in sent_to(patient.email) if "Reminder" in m.subject] == []
    [skipped] = ledger(kind=MessageKind.APPOINTMENT_REMINDER)
    assert skipped.status == MessageStatus.SKIPPED
    assert skipped.object_id == appointment.pk
    assert skipped.skip_reason == (
        "The clinic is closed on Wednesday 10 June 2026 (Burst pipe): the appointment needs moving."
    )


def test_the_sweep_sends_no_reminder_for_an_appointment_inside_its_practitioners_time_off(
    clinic, practitioner, second_practitioner, patient
):
    open_clinic_every_day(second_practitioner)
    other = PatientFactory(given_name="Ines", family_name="Duarte", email="ines@patients.example")
    book(patient, practitioner, london(2026, 6, 10, 10), when=BOOKED_ON)
    book(other, second_practitioner, london(2026, 6, 10, 11), when=BOOKED_ON)
    with at(london(2026, 6, 2, 9)):
        availability.time_off_add(
            practitioner=practitioner, starts_at=london(2026, 6, 10, 0), ends_at=london(2026, 6, 11)
        )

    sweep(london(2026, 6, 8, 11))

    assert not [m for m in sent_to(patient.email) if "Reminder" in m.subject]
    assert len([m for m in sent_to(other.email) if "Reminder" in m.subject]) == 1
    statuses = {row.recipient: row.status for row in ledger(kind=MessageKind.APPOINTMENT_REMINDER)}
    assert statuses == {patient.email: MessageStatus.SKIPPED, other.email: MessageStatus.SENT}


# -- cancelling them and offering a new time -------------------------------------------------


def test_cancelling_a_closures_appointments_emails_each_patient_once_with_a_link(
    clinic, practitioner, patient, manager
):
    appointment = book(patient, practitioner, london(2026, 6, 10, 10), when=BOOKED_ON)
    sweep(london(2026, 6, 1, 12, 10))  # the booking confirmation goes
    closure = close(CLOSED_ON, when=london(2026, 6, 2, 9))

    when = london(2026, 6, 2, 9, 5)
    with at(when):
        outcome = closure_appointments_cancel(
            closure=closure, appointment_ids=[appointment.pk], cancelled_by=manager, now=when
        )
        again = closure_appointments_cancel(
            closure=closure, appointment_ids=[appointment.pk], cancelled_by=manager, now=when
        )
    for minute in (10, 20, 30):
        sweep(london(2026, 6, 2, 9, minute))

    assert [a.pk for a in outcome.emailed] == [appointment.pk]
    assert again.cancelled == 0
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancellation_reason == "Clinic closed: Burst pipe"
    subjects = [message.subject for message in sent_to(patient.email)]
    assert subjects == [
        "Your appointment on Wednesday 10 June 2026 at 10:00 is booked",
        "We have had to cancel your appointment on Wednesday 10 June 2026 at 10:00: please "
        "pick a new time",
    ]
    assert not ledger(kind=MessageKind.BOOKING_CANCELLED)
    [row] = ledger(kind=MessageKind.CANCELLED_BY_CLINIC)
    assert row.idempotency_key == f"cancelled-by-clinic:appointment:{appointment.pk}"
    assert "/p/rebook/" in sent_to(patient.email)[-1].body
    assert AuditEntry.objects.filter(
        object_type="clinic.clinicclosure", action=AuditAction.CHANGE
    ).exists()


def test_a_patient_without_an_email_is_not_emailed_but_listed_to_phone(
    clinic, practitioner, manager
):
    no_email = PatientFactory(given_name="Bo", family_name="Lind", email="", phone="+447700900123")
    appointment = book(no_email, practitioner, london(2026, 6, 10, 10), when=BOOKED_ON)
    closure = close(CLOSED_ON, when=BOOKED_ON)

    outcome = closure_appointments_cancel(
        closure=closure, appointment_ids=[appointment.pk], cancelled_by=manager, now=BOOKED_ON
    )

    assert [a.patient for a in outcome.to_phone] == [no_email]
    assert outcome.emailed == []
    [row] = ledger(kind=MessageKind.CANCELLED_BY_CLINIC)
    assert (row.status, row.skip_reason) == (MessageStatus.SKIPPED, "No email address on file.")


def test_only_the_appointments_the_manager_confirmed_are_cancelled(
    clinic, practitioner, patient, manager
):
    other = PatientFactory(given_name="Ines", family_name="Duarte", email="ines@patients.example")
    first = book(patient, practitioner, london(2026, 6, 10, 10), when=BOOKED_ON)
    second = book(other, practitioner, london(2026, 6, 10, 11), when=BOOKED_ON)
    closure = close(CLOSED_ON, when=BOOKED_ON)

    closure_appointments_cancel(
        closure=closure, appointment_ids=[first.pk], cancelled_by=manager, now=BOOKED_ON
    )

    statuses = dict(Appointment.objects.values_list("pk", "status"))
    assert statuses == {first.pk: AppointmentStatus.CANCELLED, second.pk: AppointmentStatus.BOOKED}


def test_the_rebook_link_offers_new_times_for_the_same_treatment_and_books_one(
    clinic, practitioner, patient, manager
):
    appointment = book(patient, practitioner, london(2026, 6, 10, 10), when=BOOKED_ON)
    entry, _ = availability.time_off_add(
        practitioner=practitioner,
        starts_at=london(2026, 6, 10),
        ends_at=london(2026, 6, 11),
        now=BOOKED_ON,
    )
    with at(BOOKED_ON):
        time_off_appointments_cancel(
            entry=entry, appointment_ids=[appointment.pk], cancelled_by=manager, now=BOOKED_ON
        )
    token = rebook_token(sent_to(patient.email)[-1])

    now = london(2026, 6, 2, 9)
    with at(now):
        linked = selfservice.open_rebook_link(token, now=now)
        week = selfservice.rebook_options(linked, now=now, page_from=dt.date(2026, 6, 8))
        offered_days = [day.day for day in week.days]
        assert linked.state == LinkState.OPEN
        assert dt.date(2026, 6, 9) in offered_days
        assert CLOSED_ON not in offered_days  # the practitioner is off and nobody else works
        choice = next(
            time for day in week.days for time in day.times if day.day == dt.date(2026, 6, 9)
        )
        booked = selfservice.patient_rebook(linked=linked, slot=choice.value, now=now)
        again = selfservice.open_rebook_link(token, now=now)

    assert (booked.treatment_type, booked.patient) == (appointment.treatment_type, patient)
    assert (again.state, again.new_booking) == (LinkState.BOOKED, booked)


def test_a_cancelled_series_session_link_books_the_same_session_number(
    clinic, practitioner, patient, manager
):
    series = series_after_sessions(
        patient=patient, practitioner=practitioner, performed=[london(2026, 5, 20, 10)]
    )
    session = book(patient, practitioner, london(2026, 6, 10, 10), when=BOOKED_ON, series=series)
    assert session.series_session_number == 2
    closure = close(CLOSED_ON, when=BOOKED_ON)
    with at(BOOKED_ON):
        closure_appointments_cancel(
            closure=closure, appointment_ids=[session.pk], cancelled_by=manager, now=BOOKED_ON
        )
    token = rebook_token(sent_to(patient.email)[-1])

    now = london(2026, 6, 2, 9)
    with at(now):
        linked = selfservice.open_rebook_link(token, now=now)
        week = selfservice.rebook_options(linked, now=now, page_from=dt.date(2026, 6, 11))
        choice = week.days[0].times[0]
        booked = selfservice.patient_rebook(linked=linked, slot=choice.value, now=now)

    assert (booked.series, booked.series_session_number) == (series, 2)
    assert booked.starts_at.astimezone(LONDON).date() != CLOSED_ON
