"""Managers' writes to availability: opening hours, closures, working weeks, time off, rooms,
booking settings. Each is one transaction; existing appointments are never moved by them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from bookings.calendar_cache import schedule_changed
from bookings.models import BookingSettings, TimeOff, WorkingHours
from bookings.rules import (
    BookingError,
    HoursRefused,
    opening_hours_problems,
    working_day_problems,
)
from bookings.selectors_closures import active_between, closure_window
from clinic import audit, clock
from clinic.formats import long_date
from clinic.models import AuditAction, ClinicClosure, OpeningHours, Practitioner, Room, Weekday
from treatments.models import TreatmentType

# The booking settings a manager may choose (the form offers the same bounds).
MAX_MINIMUM_NOTICE_MINUTES = 60 * 24 * 14
MAX_HORIZON_DAYS = 730


def _week_text(rows: Iterable[Any], describe: Any) -> dict[str, str]:
    """A week of hours for the audit trail: {"Monday": "09:00-12:00, 13:00-17:00", ...}."""
    week: dict[str, list[str]] = {}
    for row in rows:
        week.setdefault(Weekday(row.weekday).label, []).append(describe(row))
    return {day: ", ".join(spans) for day, spans in week.items()}


def _working_day_text(row: WorkingHours) -> str:
    text = f"{row.starts_at:%H:%M}-{row.ends_at:%H:%M}"
    if row.break_starts_at and row.break_ends_at:
        text += f" (break {row.break_starts_at:%H:%M}-{row.break_ends_at:%H:%M})"
    return text


@transaction.atomic(durable=True)
def working_week_set(*, practitioner: Practitioner, days: Iterable[Mapping[str, Any]]) -> None:
    """Replace a practitioner's weekly hours: one row per weekday they work.

    ``days`` holds ``weekday``, ``works`` and the times; a day not worked has no row.
    Invariant: each worked day ends after it starts, its break lies inside it, and it lies
    inside the clinic's opening hours that weekday (``HoursRefused`` names the rows).
    Audited.
    """
    days = list(days)
    opening: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for span in OpeningHours.objects.all():
        opening.setdefault(span.weekday, []).append((span.opens_at, span.closes_at))
    problems = [
        problem
        for row, day in enumerate(days)
        if day.get("works")
        for problem in working_day_problems(
            row=row,
            weekday=day["weekday"],
            starts_at=day["starts_at"],
            ends_at=day["ends_at"],
            break_starts_at=day.get("break_starts_at"),
            break_ends_at=day.get("break_ends_at"),
            opening=opening.get(day["weekday"], []),
        )
    ]
    if problems:
        raise HoursRefused(problems)
    Practitioner.objects.select_for_update().filter(pk=practitioner.pk).first()
    existing = WorkingHours.objects.filter(practitioner=practitioner).order_by("weekday")
    before = _week_text(existing, _working_day_text)
    existing.delete()
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
    audit.record(
        action=AuditAction.CHANGE,
        object_type="bookings.workinghours",
        object_id=practitioner.pk,
        before=before,
        after=_week_text(
            WorkingHours.objects.filter(practitioner=practitioner).order_by("weekday"),
            _working_day_text,
        ),
        detail=f"Working hours of {practitioner}",
    )
    schedule_changed()  # bulk_create sends no signal; the calendars show working hours


@transaction.atomic(durable=True)
def time_off_add(
    *,
    practitioner: Practitioner,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str = "",
    now: dt.datetime | None = None,
) -> tuple[TimeOff, int]:
    """Record time off that has not ended yet; returns it with the number of active
    appointments inside it, which stay booked until someone moves or cancels them (the
    time off page lists them)."""
    if ends_at <= starts_at:
        raise BookingError("Time off must end after it starts.")
    if ends_at <= (now or timezone.now()):
        raise BookingError("This time off has already ended: there is nothing to record.")
    entry = TimeOff.objects.create(
        practitioner=practitioner, starts_at=starts_at, ends_at=ends_at, reason=reason.strip()
    )
    audit.record(action=AuditAction.CREATE, obj=entry, after=audit.snapshot(entry))
    clashing = active_between(starts_at=starts_at, ends_at=ends_at, practitioner=practitioner)
    return entry, clashing.count()


@transaction.atomic(durable=True)
def closure_add(
    *, date: dt.date, reason: str, tz: Any, now: dt.datetime | None = None
) -> tuple[ClinicClosure, int]:
    """Close the clinic on a day from today on (a past day cannot be closed); returns it with
    the number of active appointments that day (the closure page lists them)."""
    if date < clock.today(now or timezone.now()):
        raise BookingError(
            f"{long_date(date)} has passed: a closure can only be added for today or a later day."
        )
    if ClinicClosure.objects.filter(date=date).exists():
        raise BookingError(f"The clinic is already closed on {long_date(date)}.")
    closure = ClinicClosure.objects.create(date=date, reason=reason.strip())
    audit.record(action=AuditAction.CREATE, obj=closure, after=audit.snapshot(closure))
    starts, ends = closure_window(date)
    return closure, active_between(starts_at=starts, ends_at=ends).count()


ROOM_NAME_MAX_LENGTH = Room._meta.get_field("name").max_length


def _room_audited(room: Room) -> dict[str, Any]:
    return {
        **audit.snapshot(room),
        "treatment_types": sorted(room.treatment_types.values_list("pk", flat=True)),
    }


@transaction.atomic(durable=True)
def room_save(
    *, room: Room, name: str, is_active: bool, treatment_types: Iterable[TreatmentType]
) -> Room:
    """Create or update a room and the treatments it can host.

    Invariant: a name (unique, ignoring case) of at most ``ROOM_NAME_MAX_LENGTH``. Audited.
    """
    name = name.strip()
    if not name:
        raise BookingError("Enter the room's name.")
    # Types: the room name field has a max_length.
    if len(name) > ROOM_NAME_MAX_LENGTH:  # type: ignore[operator]
        raise BookingError(f"A room's name has at most {ROOM_NAME_MAX_LENGTH} characters.")
    if Room.objects.filter(name__iexact=name).exclude(pk=room.pk).exists():
        raise BookingError(f"There is already a room called {name}.")
    before = None
    if room.pk is not None:
        before = _room_audited(Room.objects.select_for_update().get(pk=room.pk))
    room.name = name
    room.is_active = is_active
    room.save()
    room.treatment_types.set(list(treatment_types))
    audit.record(
        action=AuditAction.CREATE if before is None else AuditAction.CHANGE,
        obj=room,
        before=before,
        after=_room_audited(room),
    )
    return room


@transaction.atomic(durable=True)
def booking_settings_update(*, minimum_notice_minutes: int, horizon_days: int) -> BookingSettings:
    """Change the minimum booking notice and how far ahead bookings go.

    Invariant: 0 <= notice <= ``MAX_MINIMUM_NOTICE_MINUTES``, 1 <= horizon <=
    ``MAX_HORIZON_DAYS``. Audited.
    """
    if not 0 <= minimum_notice_minutes <= MAX_MINIMUM_NOTICE_MINUTES:
        raise BookingError(
            f"The minimum notice must be between 0 and {MAX_MINIMUM_NOTICE_MINUTES} minutes."
        )
    if not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        raise BookingError(f"Bookings can be taken between 1 and {MAX_HORIZON_DAYS} days ahead.")
    settings_row = BookingSettings.objects.select_for_update().filter(pk=1).first()
    if settings_row is None:
        settings_row = BookingSettings(pk=1)
    fields = ["minimum_notice_minutes", "horizon_days"]
    before = audit.snapshot(settings_row, fields) if settings_row.updated_at else None
    settings_row.minimum_notice_minutes = minimum_notice_minutes
    settings_row.horizon_days = horizon_days
    settings_row.save()
    audit.record(
        action=AuditAction.CHANGE if before is not None else AuditAction.CREATE,
        obj=settings_row,
        before=before,
        after=audit.snapshot(settings_row, fields),
    )
    return settings_row


def _opening_text(row: OpeningHours) -> str:
    return f"{row.opens_at:%H:%M}-{row.closes_at:%H:%M}"


@transaction.atomic(durable=True)
def opening_hours_set(*, spans: Iterable[tuple[int, dt.time, dt.time]]) -> None:
    """Replace the clinic's weekly opening hours (several spans a weekday allowed).

    Invariant: each span closes after it opens; spans of one weekday do not overlap
    (``HoursRefused`` names the rows). Audited.
    """
    spans = list(spans)
    problems = opening_hours_problems(spans)
    if problems:
        raise HoursRefused(problems)
    before = _week_text(OpeningHours.objects.order_by("weekday", "opens_at"), _opening_text)
    OpeningHours.objects.all().delete()
    OpeningHours.objects.bulk_create(
        OpeningHours(weekday=weekday, opens_at=opens, closes_at=closes)
        for weekday, opens, closes in sorted(spans)
    )
    audit.record(
        action=AuditAction.CHANGE,
        object_type="clinic.openinghours",
        before=before,
        after=_week_text(OpeningHours.objects.order_by("weekday", "opens_at"), _opening_text),
        detail="Opening hours",
    )
    schedule_changed()  # bulk_create sends no signal; the calendars show opening hours


@transaction.atomic(durable=True)
def closure_remove(*, closure: ClinicClosure) -> None:
    """Open the clinic again on a closed day. Audited."""
    audit.record(action=AuditAction.DELETE, obj=closure, before=audit.snapshot(closure))
    closure.delete()


@transaction.atomic(durable=True)
def time_off_remove(*, entry: TimeOff) -> None:
    """Remove a practitioner's time off. Audited."""
    audit.record(action=AuditAction.DELETE, obj=entry, before=audit.snapshot(entry))
    entry.delete()
