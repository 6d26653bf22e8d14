"""``seed_demo`` builds a clinic that obeys every rule the app enforces."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from bookings import slots
from bookings.models import Appointment, AppointmentStatus, TimeOff, WorkingHours
from clinic import clock
from clinic.models import ClinicClosure, OpeningHours

pytestmark = pytest.mark.django_db

# A Thursday afternoon in December: "today" has past and coming appointments, the week
# ahead runs into Christmas Day (a closure), and the time off lands on a Sunday unless
# the command steers it to a day the clinic is open.
SEEDED_AT = dt.datetime(2026, 12, 3, 15, 4, 17, tzinfo=dt.UTC)


@pytest.fixture
def seeded(time_machine: Any) -> None:
    time_machine.move_to(SEEDED_AT, tick=False)
    call_command("seed_demo", "--force", stdout=StringIO())


def test_seed_demo_books_every_appointment_on_the_grid_inside_opening_and_working_hours(seeded):
    tz = clock.clinic_tz()
    appointments = list(Appointment.objects.select_related("practitioner"))
    closed = set(ClinicClosure.objects.values_list("date", flat=True))

    assert len(appointments) >= 15
    assert {appointment.status for appointment in appointments} >= {
        AppointmentStatus.BOOKED,
        AppointmentStatus.CONFIRMED,
    }
    for appointment in appointments:
        start = appointment.starts_at.astimezone(tz)
        end = appointment.ends_at.astimezone(tz)
        assert slots.off_grid_problem(appointment.starts_at, tz) is None, start
        assert start.date() not in closed, start
        opening = OpeningHours.objects.filter(weekday=start.weekday())
        assert any(
            span.opens_at <= start.time() and end.time() <= span.closes_at for span in opening
        ), start
        hours = WorkingHours.objects.get(
            practitioner=appointment.practitioner, weekday=start.weekday()
        )
        assert hours.starts_at <= start.time(), start
        assert end.time() <= hours.ends_at, start
        assert not (hours.break_starts_at < end.time() and start.time() < hours.break_ends_at)
        assert not TimeOff.objects.filter(
            practitioner=appointment.practitioner,
            starts_at__lt=appointment.ends_at,
            ends_at__gt=appointment.starts_at,
        ).exists()


def test_seed_demo_puts_time_off_only_on_days_the_clinic_is_open(seeded):
    tz = clock.clinic_tz()
    closed = set(ClinicClosure.objects.values_list("date", flat=True))
    open_weekdays = set(OpeningHours.objects.values_list("weekday", flat=True))

    absences = list(TimeOff.objects.all())

    assert absences
    for absence in absences:
        day = absence.starts_at.astimezone(tz).date()
        assert day not in closed
        assert day.weekday() in open_weekdays
