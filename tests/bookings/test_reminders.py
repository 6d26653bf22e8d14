"""Appointment reminders: when they go, that they go once, and when they must not go."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail

from bookings.reminders import reminder_due, reminder_moment
from clinic.models import MessageKind, MessageStatus
from tests.builders import (
    LONDON,
    book,
    cancel,
    confirm,
    ledger,
    london,
    move,
    open_clinic_every_day,
    sent_to,
    sweep,
)
from tests.smtp_sink import running_sink, smtp_settings

pytestmark = pytest.mark.django_db

REMINDER = MessageKind.APPOINTMENT_REMINDER


@pytest.fixture
def clinic(practitioner: Any) -> Any:
    return open_clinic_every_day(practitioner)


def reminders_to(address: str) -> list[Any]:
    return [message for message in sent_to(address) if "Reminder" in message.subject]


# -- the moment a reminder is due (pure) -----------------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "hours", "expected_utc"),
    [
        # Monday after the spring switch (28 March 2027): 10:00 BST = 09:00 UTC; the 48-hour
        # reminder is Saturday 10:00 on the wall clock = 10:00 UTC (47 elapsed hours).
        (london(2027, 3, 29, 10), 48, dt.datetime(2027, 3, 27, 10, tzinfo=dt.UTC)),
        # Monday after the autumn switch (25 October 2026): 10:00 GMT; Saturday 10:00 BST
        # = 09:00 UTC (49 elapsed hours).
        (london(2026, 10, 26, 10), 48, dt.datetime(2026, 10, 24, 9, tzinfo=dt.UTC)),
        # An ordinary week: exactly 48 and 2 hours.
        (london(2026, 6, 10, 10), 48, dt.datetime(2026, 6, 8, 9, tzinfo=dt.UTC)),
        (london(2026, 6, 10, 10), 2, dt.datetime(2026, 6, 10, 7, tzinfo=dt.UTC)),
    ],
)
def test_reminder_moment_is_counted_on_the_clinic_wall_clock(
    starts_at: dt.datetime, hours: int, expected_utc: dt.datetime
):
    moment = reminder_moment(starts_at=starts_at, hours=hours, tz=LONDON)
    assert moment == expected_utc
    wall_clock = starts_at.astimezone(LONDON).replace(tzinfo=None) - dt.timedelta(hours=hours)
    assert moment.astimezone(LONDON).replace(tzinfo=None) == wall_clock


def test_only_the_latest_due_reminder_is_sent_after_downtime():
    starts_at = london(2026, 6, 10, 10)
    offsets = [48, 2]
    before = reminder_due(
        starts_at=starts_at, offsets=offsets, now=london(2026, 6, 8, 9), tz=LONDON
    )
    first = reminder_due(
        starts_at=starts_at, offsets=offsets, now=london(2026, 6, 8, 10), tz=LONDON
    )
    late = reminder_due(starts_at=starts_at, offsets=offsets, now=london(2026, 6, 10, 9), tz=LONDON)
    after = reminder_due(starts_at=starts_at, offsets=offsets, now=starts_at, tz=LONDON)
    assert before is None
    assert (first.hours, first.is_first) == (48, True)
    assert (late.hours, late.is_first) == (2, False)
    assert after is None


# -- sweeps ----------------------------------------------------------------------------------


def test_48_hour_reminder_goes_once_however_many_sweeps_run(clinic, practitioner, patient):
    book(patient, practitioner, london(2026, 6, 10, 10), when=london(2026, 6, 1, 12))
    sweep(london(2026, 6, 8, 9, 59))
    assert reminders_to(patient.email) == []

    for minute in (0, 1, 2):
        sweep(london(2026, 6, 8, 10, minute))

    [reminder] = reminders_to(patient.email)
    assert reminder.subject == (
        "Reminder: your appointment in 2 days, Wednesday 10 June 2026 at 10:00"
    )
    assert "Crystal microdermabrasion with Amara Okafor" in reminder.body
    [row] = ledger(kind=REMINDER)
    assert row.status == MessageStatus.SENT
    assert row.idempotency_key == (
        f"reminder:48h:appointment:{row.object_id}:2026-06-10T09:00:00+00:00"
    )


def test_2_hour_reminder_follows_the_48_hour_one(clinic, practitioner, patient):
    book(patient, practitioner, london(2026, 6, 10, 10), when=london(2026, 6, 1, 12))
    sweep(london(2026, 6, 8, 10))
    sweep(london(2026, 6, 10, 8))
    sweep(london(2026, 6, 10, 8, 1))

    subjects = [message.subject for message in reminders_to(patient.email)]
    assert subjects == [
        "Reminder: your appointment in 2 days, Wednesday 10 June 2026 at 10:00",
        "Reminder: your appointment today, Wednesday 10 June 2026 at 10:00",
    ]


def test_the_2_hour_reminder_has_no_cancel_link_only_the_phone(clinic, practitioner, patient):
    book(patient, practitioner, london(2026, 6, 10, 10), when=london(2026, 6, 1, 12))
    sweep(london(2026, 6, 10, 8))

    [reminder] = reminders_to(patient.email)
    assert "/p/cancel/" not in reminder.body
    assert "please call us on 020 7946 0321" in reminder.body
    assert "/p/confirm/" in reminder.body


def test_a_worker_down_for_days_sends_the_2_hour_reminder_not_a_stale_48_hour_one(
    clinic, practitioner, patient
):
    book(patient, practitioner, london(2026, 6, 10, 10), when=london(2026, 6, 1, 12))
    sweep(london(2026, 6, 10, 8, 30))

    [reminder] = reminders_to(patient.email)
    assert "today" in reminder.subject
    assert [row.idempotency_key.split(":")[1] for row in ledger(kind=REMINDER)] == ["2h"]


def test_no_reminder_goes_for_a_booking_made_inside_its_window(clinic, practitioner, patient):
    # Booked 30 hours ahead: the booking confirmation told the patient; the 48-hour reminder
    # would be a second email about the same thing minutes later.
    book(patient, practitioner, london(2026, 6, 10, 10), when=london(2026, 6, 9, 4))
    sweep(london(2026, 6, 9, 4, 1))
    sweep(london(2026, 6, 9, 4, 5))

    assert reminders_to(patient.email) == []
    assert [message.subject for message in sent_to(patient.email)] == [
        "Your appointment on Wednesday 10 June 2026 at 10:00 is booked"
    ]
    [skipped] = ledger(kind=REMINDER)
    assert skipped.status == MessageStatus.SKIPPED
    assert "less than 48 hours ahead" in skipped.skip_reason

    sweep(london(2026, 6, 10, 8))
    assert len(reminders_to(patient.email)) == 1


def test_patient_without_reminder_consent_gets_no_reminder_and_staff_see_why(
    clinic, practitioner, opted_out_patient
):
    book(opted_out_patient, practitioner, london(2026, 6, 10, 10), when=london(2026, 6, 1, 12))
    sweep(london(2026, 6, 8, 10))

    assert reminders_to(opted_out_patient.email) == []
    [row] = ledger(kind=REMINDER)
    assert row.status == MessageStatus.SKIPPED
    assert row.skip_reason == "The patient has not consented to email reminders."
    assert row.body_text == ""


def test_later_reminder_is_skipped_once_confirmed_when_the_setting_says_so(
    clinic, practitioner, patient, settings
):
    settings.REMINDER_SKIP_LATER_WHEN_CONFIRMED = True
    appointment = book(patient, practitioner, london(2026, 6, 10, 10), when=london(2026, 6, 1, 12))
    sweep(london(2026, 6, 8, 10))
    confirm(appointment, when=london(2026, 6, 8, 11))
    sweep(london(2026, 6, 10, 8))

    assert len(reminders_to(patient.email)) == 1
    skipped = ledger(kind=REMINDER, status=MessageStatus.SKIPPED)
    assert [row.skip_reason for row in skipped] == ["The patient already confirmed."]


def test_later_reminder_still_goes_to_a_confirmed_patient_by_default(clinic, practitioner, patient):
    appointment = book(patient, practitioner, london(2026, 6, 10, 10), when=london(2026, 6, 1, 12))
    sweep(london(2026, 6, 8, 10))
    confirm(appointment, when=london(2026, 6, 8, 11))
    sweep(london(2026, 6, 10, 8))

    later = reminders_to(patient.email)[-1]
    assert "Thank you for confirming" in later.body
    assert "/p/confirm/" not in later.body


def test_reminder_offsets_come_from_the_setting(clinic, practitioner, patient, settings):
    settings.REMINDER_OFFSETS_HOURS = [24]
    book(patient, practitioner, london(2026, 6, 10, 10), when=london(2026, 6, 1, 12))
    sweep(london(2026, 6, 8, 10))
    assert reminders_to(patient.email) == []
    sweep(london(2026, 6, 9, 10))
    assert [message.subject for message in reminders_to(patient.email)] == [
        "Reminder: your appointment tomorrow, Wednesday 10 June 2026 at 10:00"
    ]


def test_moved_appointment_gets_reminders_for_its_new_time_only(clinic, practitioner, patient):
    appointment = book(patient, practitioner, london(2026, 6, 10, 10), when=london(2026, 6, 1, 12))
    sweep(london(2026, 6, 8, 10))
    move(appointment, london(2026, 6, 10, 15), when=london(2026, 6, 9, 9))
    sweep(london(2026, 6, 10, 10))
    sweep(london(2026, 6, 10, 13))

    subjects = [message.subject for message in reminders_to(patient.email)]
    assert subjects == [
        "Reminder: your appointment in 2 days, Wednesday 10 June 2026 at 10:00",
        "Reminder: your appointment today, Wednesday 10 June 2026 at 15:00",
    ]


def test_a_pending_reminder_for_the_old_time_is_skipped_when_the_appointment_moves(
    clinic, practitioner, patient, settings
):
    with running_sink() as sink:
        smtp_settings(settings, sink)
        sink.refuse_next(2)  # the confirmation and the 48-hour reminder
        appointment = book(
            patient, practitioner, london(2026, 6, 10, 10), when=london(2026, 6, 1, 12)
        )
        sweep(london(2026, 6, 8, 10))
        [waiting] = ledger(kind=REMINDER)
        assert waiting.status == MessageStatus.PENDING  # 451: a retry is due later
        assert waiting.last_error.startswith("SMTP 451")

        move(appointment, london(2026, 6, 11, 10), when=london(2026, 6, 8, 10, 1))
        waiting.refresh_from_db()
        assert waiting.status == MessageStatus.SKIPPED
        assert "moved" in waiting.skip_reason

        sweep(london(2026, 6, 8, 12))
        # The unsent confirmation of the old time gave way to one of the final time.
        assert sink.subjects_to(patient.email) == [
            "Your appointment on Thursday 11 June 2026 at 10:00 is booked"
        ]


def test_cancelled_appointment_gets_no_more_reminders(clinic, practitioner, patient):
    appointment = book(patient, practitioner, london(2026, 6, 10, 10), when=london(2026, 6, 1, 12))
    sweep(london(2026, 6, 8, 10))
    cancel(appointment, when=london(2026, 6, 9, 9))
    mail.outbox.clear()
    sweep(london(2026, 6, 10, 8))

    assert reminders_to(patient.email) == []


# -- daylight saving ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "booked_at", "due_local"),
    [
        # Spring: the clocks go forward on Sunday 28 March 2027.
        (london(2027, 3, 29, 10), london(2027, 3, 20, 12), london(2027, 3, 27, 10)),
        # Autumn: the clocks go back on Sunday 25 October 2026.
        (london(2026, 10, 26, 10), london(2026, 10, 17, 12), london(2026, 10, 24, 10)),
    ],
    ids=["spring-forward", "autumn-back"],
)
def test_48_hour_reminder_across_a_dst_switch_goes_at_the_same_local_time_two_days_before(
    clinic, practitioner, patient, starts_at, booked_at, due_local
):
    book(patient, practitioner, starts_at, when=booked_at)
    sweep(due_local - dt.timedelta(minutes=1))
    assert reminders_to(patient.email) == []

    sweep(due_local)
    sweep(due_local + dt.timedelta(hours=1))
    [reminder] = reminders_to(patient.email)
    assert reminder.subject.endswith(f"Monday {starts_at.day} {starts_at:%B %Y} at 10:00")
    [row] = ledger(kind=REMINDER)
    assert row.sent_at == due_local


def test_2_hour_reminder_on_the_morning_after_a_dst_switch_is_two_hours_before(
    clinic, practitioner, patient
):
    # Sunday 28 March 2027: the clocks went forward at 01:00 GMT; 11:00 BST is 10:00 UTC.
    book(patient, practitioner, london(2027, 3, 28, 11), when=london(2027, 3, 20, 12))
    sweep(london(2027, 3, 26, 11))
    sweep(london(2027, 3, 28, 8, 59))
    assert len(reminders_to(patient.email)) == 1
    sweep(london(2027, 3, 28, 9))
    later = reminders_to(patient.email)[1]
    assert later.subject == "Reminder: your appointment today, Sunday 28 March 2027 at 11:00"
    [row] = ledger(kind=REMINDER, idempotency_key__startswith="reminder:2h")
    assert row.sent_at == dt.datetime(2027, 3, 28, 8, tzinfo=dt.UTC)
