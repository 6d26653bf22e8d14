"""Managers' writes to availability: opening hours, closures, working weeks, time off, rooms,
booking settings. Each is one transaction; existing appointments are never moved by them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from bookings.calendar_cache import schedule_changed
from bookings.models import ACTIVE_STATUSES, Appointment, BookingSettings, TimeOff, WorkingHours
from bookings.rules import BookingError
from clinic import clock
from clinic.models import ClinicClosure, Practitioner, Room
from treatments.models import TreatmentType


@transaction.atomic
def working_week_set(*, practitioner: Practitioner, days: Iterable[Mapping[str, Any]]) -> None:
    """Replace a practitioner's weekly hours: one row per weekday they work.

    ``days`` holds ``weekday``, ``works`` and the times; a day not worked has no row.
    """
    Practitioner.objects.select_for_update().filter(pk=practitioner.pk).first()
    WorkingHours.objects.filter(practitioner=practitioner).delete()
    WorkingHours.objects.bulk_create(
        WorkingHours(
            practitioner=practitioner,
            weekday=day["weekday"],
            starts_at=day["starts_at"],
            ends_at=day["ends_at"],
            break_starts_at=day.get("break_starts_at"),
            break_ends_at=day.get("break_ends_at"),
        )
        for day in days
        if day.get("works")
    )
    schedule_changed()  # bulk_create sends no signal; the calendars show working hours


def _clashing(practitioner: Practitioner | None, starts_at: dt.datetime, ends_at: dt.datetime):
    queryset = Appointment.objects.filter(
        status__in=ACTIVE_STATUSES, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if practitioner is not None:
        queryset = queryset.filter(practitioner=practitioner)
    return queryset


@transaction.atomic
def time_off_add(
    *, practitioner: Practitioner, starts_at: dt.datetime, ends_at: dt.datetime, reason: str = ""
) -> tuple[TimeOff, int]:
    """Record time off; returns it with the number of active appointments inside it, which
    stay booked until someone moves them (the page says so)."""
    if ends_at <= starts_at:
        raise BookingError("Time off must end after it starts.")
    entry = TimeOff.objects.create(
        practitioner=practitioner, starts_at=starts_at, ends_at=ends_at, reason=reason.strip()
    )
    return entry, _clashing(practitioner, starts_at, ends_at).count()


@transaction.atomic
def closure_add(*, date: dt.date, reason: str, tz: Any) -> tuple[ClinicClosure, int]:
    """Close the clinic on a day; returns it with the number of active appointments that day."""
    if ClinicClosure.objects.filter(date=date).exists():
        raise BookingError(f"The clinic is already closed on {date:%d %b %Y}.")
    closure = ClinicClosure.objects.create(date=date, reason=reason.strip())
    starts, ends = clock.day_bounds(date, date, tz)
    return closure, _clashing(None, starts, ends).count()


@transaction.atomic
def room_save(
    *, room: Room, name: str, is_active: bool, treatment_types: Iterable[TreatmentType]
) -> Room:
    """Create or update a room and the treatments it can host."""
    room.name = name.strip()
    room.is_active = is_active
    room.save()
    room.treatment_types.set(list(treatment_types))
    return room


@transaction.atomic
def booking_settings_update(*, minimum_notice_minutes: int, horizon_days: int) -> BookingSettings:
    settings_row = BookingSettings.objects.select_for_update().filter(pk=1).first()
    if settings_row is None:
        settings_row = BookingSettings(pk=1)
    settings_row.minimum_notice_minutes = minimum_notice_minutes
    settings_row.horizon_days = horizon_days
    settings_row.save()
    return settings_row


@transaction.atomic
def opening_hours_set(*, spans: Iterable[tuple[int, dt.time, dt.time]]) -> None:
    """Replace the clinic's weekly opening hours (several spans a weekday allowed)."""
    from clinic.models import OpeningHours

    OpeningHours.objects.all().delete()
    OpeningHours.objects.bulk_create(
        OpeningHours(weekday=weekday, opens_at=opens, closes_at=closes)
        for weekday, opens, closes in sorted(spans)
    )
    schedule_changed()  # bulk_create sends no signal; the calendars show opening hours


def closure_remove(*, closure: ClinicClosure) -> None:
    closure.delete()


def time_off_remove(*, entry: TimeOff) -> None:
    entry.delete()
