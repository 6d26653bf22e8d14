"""Appointments a clinic closure or a practitioner's time off leaves without a room to happen in.

One place says which appointments a closure or a time off covers: the managers' pages that
list them (to move or cancel), the service that cancels them, and the reminder sweep that
must not remind a patient of an appointment that cannot take place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db.models import QuerySet

from bookings.models import ACTIVE_STATUSES, Appointment, TimeOff
from clinic import clock
from clinic.formats import long_date
from clinic.models import ClinicClosure, Practitioner


def closure_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """A closed day, from local midnight to the next local midnight (23 or 25 hours on DST)."""
    return clock.day_bounds(day, day)


def active_between(
    *, starts_at: dt.datetime, ends_at: dt.datetime, practitioner: Practitioner | None = None
) -> QuerySet[Appointment]:
    """Active appointments overlapping ``[starts_at, ends_at)`` (one practitioner's, if given)."""
    queryset = Appointment.objects.filter(
        status__in=ACTIVE_STATUSES, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if practitioner is not None:
        queryset = queryset.filter(practitioner=practitioner)
    return queryset


def _still_to_come(queryset: QuerySet[Appointment], now: dt.datetime) -> list[Appointment]:
    return list(
        queryset.filter(starts_at__gt=now)
        .select_related("patient", "practitioner", "treatment_type")
        .order_by("starts_at", "pk")
    )


def appointments_in_closure(*, closure: ClinicClosure, now: dt.datetime) -> list[Appointment]:
    """Active appointments still to come on a closed day, with patient, practitioner and
    treatment (one query)."""
    starts_at, ends_at = closure_window(closure.date)
    return _still_to_come(active_between(starts_at=starts_at, ends_at=ends_at), now)


def appointments_in_time_off(*, entry: TimeOff, now: dt.datetime) -> list[Appointment]:
    """The practitioner's active appointments still to come inside their time off (one query)."""
    return _still_to_come(
        active_between(
            starts_at=entry.starts_at, ends_at=entry.ends_at, practitioner=entry.practitioner
        ),
        now,
    )


def unavailable_reasons(appointments: Sequence[Appointment]) -> dict[int, str]:
    """Why each of these appointments cannot take place as booked: the clinic is closed that
    day, or the practitioner is off. Appointments with no such problem are left out.

    Two queries whatever the number of appointments (closures, then time off)."""
    if not appointments:
        return {}
    days = {clock.local_day(appointment.starts_at) for appointment in appointments}
    closed = {
        closure.date: closure.reason
        for closure in ClinicClosure.objects.filter(date__in=days).only("date", "reason")
    }
    time_off = list(
        TimeOff.objects.filter(
            practitioner_id__in={appointment.practitioner_id for appointment in appointments},
            starts_at__lt=max(appointment.ends_at for appointment in appointments),
            ends_at__gt=min(appointment.starts_at for appointment in appointments),
        ).only("practitioner_id", "starts_at", "ends_at")
    )
    reasons = {}
    for appointment in appointments:
        day = clock.local_day(appointment.starts_at)
        if day in closed:
            reasons[appointment.pk] = (
                f"The clinic is closed on {long_date(day)} ({closed[day]}): "
                "the appointment needs moving."
            )
        elif _inside_time_off(appointment, time_off):
            reasons[appointment.pk] = (
                "The practitioner is off at that time: the appointment needs moving."
            )
    return reasons


def _inside_time_off(appointment: Appointment, time_off: Iterable[TimeOff]) -> bool:
    return any(
        entry.practitioner_id == appointment.practitioner_id
        and entry.starts_at < appointment.ends_at
        and entry.ends_at > appointment.starts_at
        for entry in time_off
    )
