"""What a patient can do through a self-service link, without logging in.

The links themselves (signed tokens, one purpose each) are in :mod:`bookings.links`. Here:
open a link to the appointment or series it is for and say where that stands (so a used,
outdated or expired link explains itself), offer free times, and confirm, cancel, move,
book the next session of a series or unsubscribe, always through the booking services, so
availability, conflicts and series spacing are checked exactly as for staff.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.conf import settings

from bookings import rules as booking_rules
from bookings import selectors
from bookings.links import (
    LinkInvalid,
    Purpose,
    appointment_version,
    read_token,
    series_version,
)
from bookings.models import ACTIVE_STATUSES, Appointment, AppointmentStatus
from bookings.services.appointments import (
    appointment_book,
    appointment_cancel,
    appointment_confirm,
    appointment_reschedule,
)
from clinic import clock
from clinic.models import Patient, Practitioner
from clinic.services import ConsentSource, patient_email_consent_set
from treatments.models import TreatmentSeries
from treatments.rules import DomainError

# -- what a link opens ----------------------------------------------------------------------


class LinkState(StrEnum):
    """Where the thing a link is about stands, so a used or outdated link explains itself."""

    OPEN = "open"  # the link can do what it is for
    OUTDATED = "outdated"  # the appointment moved / a newer session happened since
    CANCELLED = "cancelled"
    PAST = "past"  # the appointment has started or is over
    CLOSED = "closed"  # the series takes no more bookings
    BOOKED = "booked"  # pick: the next session is booked already


@dataclass(frozen=True)
class LinkedAppointment:
    appointment: Appointment
    state: LinkState


@dataclass(frozen=True)
class LinkedSeries:
    series: TreatmentSeries
    state: LinkState
    window_first_day: dt.date | None = None
    window_last_day: dt.date | None = None
    next_booking: Appointment | None = None


def _erased(patient: Patient) -> bool:
    """A patient erased under GDPR: their old links open nothing at all."""
    return patient.erased_at is not None


def open_appointment_link(token: str, *, purpose: Purpose, now: dt.datetime) -> LinkedAppointment:
    """The appointment a link is for (``LinkInvalid`` / ``LinkExpired`` as :func:`read_token`)."""
    payload = read_token(token, purpose=purpose)
    appointment = (
        Appointment.objects.select_related("patient", "practitioner", "treatment_type", "series")
        .filter(pk=payload.subject_id)
        .first()
    )
    if appointment is None or _erased(appointment.patient):
        raise LinkInvalid
    if appointment.status == AppointmentStatus.CANCELLED:
        state = LinkState.CANCELLED
    elif appointment.starts_at <= now or appointment.status not in ACTIVE_STATUSES:
        state = LinkState.PAST
    elif payload.version != appointment_version(appointment.starts_at):
        state = LinkState.OUTDATED
    else:
        state = LinkState.OPEN
    return LinkedAppointment(appointment=appointment, state=state)


def open_series_link(token: str, *, now: dt.datetime) -> LinkedSeries:
    payload = read_token(token, purpose=Purpose.PICK)
    series = (
        TreatmentSeries.objects.select_related("patient", "treatment_type")
        .filter(pk=payload.subject_id)
        .first()
    )
    if series is None or _erased(series.patient):
        raise LinkInvalid
    upcoming = (
        Appointment.objects.filter(series=series, status__in=ACTIVE_STATUSES, starts_at__gt=now)
        .select_related("practitioner", "treatment_type")
        .order_by("starts_at")
        .first()
    )
    if upcoming is not None:
        return LinkedSeries(series=series, state=LinkState.BOOKED, next_booking=upcoming)
    if series.status not in selectors.OPEN_SERIES_STATUSES:
        return LinkedSeries(series=series, state=LinkState.CLOSED)
    if payload.version != series_version(series.last_session_on):
        return LinkedSeries(series=series, state=LinkState.OUTDATED)
    state = selectors.series_state(series)
    if state.remaining <= 0:
        return LinkedSeries(series=series, state=LinkState.CLOSED)
    today = clock.today(now)
    first_day = max(state.window.earliest, today)
    if first_day > state.window.latest:
        return LinkedSeries(series=series, state=LinkState.PAST)
    return LinkedSeries(
        series=series,
        state=LinkState.OPEN,
        window_first_day=first_day,
        window_last_day=state.window.latest,
    )


# -- free times to offer --------------------------------------------------------------------

RESCHEDULE_DAYS = 21
DAYS_PER_PAGE = 7
MAX_TIMES_PER_DAY = 12


@dataclass(frozen=True)
class OfferedTime:
    starts_at: dt.datetime
    practitioner: Practitioner
    value: str  # what the form posts back: "<unix seconds>-<practitioner id>"
    usual_practitioner: bool  # with the practitioner the patient had (the page says so)


@dataclass
class OfferedDay:
    day: dt.date
    times: list[OfferedTime] = field(default_factory=list)


@dataclass(frozen=True)
class OfferedWeek:
    """A week of free times, and where the previous and next weeks of the range start."""

    days: list[OfferedDay]
    earlier_from: dt.date | None = None
    later_from: dt.date | None = None
    usual_practitioner: str = ""  # times are with them unless the page names someone else


def slot_value(starts_at: dt.datetime, practitioner_id: int) -> str:
    return f"{int(starts_at.timestamp())}-{practitioner_id}"


def parse_slot_value(value: str) -> tuple[dt.datetime, int]:
    """``ValueError`` for anything that is not a slot this page could have offered."""
    seconds, _, practitioner_id = value.partition("-")
    return dt.datetime.fromtimestamp(int(seconds), tz=dt.UTC), int(practitioner_id)


def _offer(
    *,
    treatment_type: Any,
    first_day: dt.date,
    last_day: dt.date,
    page_from: dt.date | None,
    now: dt.datetime,
    patient_id: int,
    preferred_practitioner_id: int | None,
    duration_minutes: int | None = None,
    exclude_appointment_id: int | None = None,
) -> OfferedWeek:
    """Free starts, a week at a time, one per half hour (the preferred practitioner when
    they are free, else whoever is)."""
    if last_day < first_day:
        return OfferedWeek(days=[])
    week_first = min(max(page_from or first_day, first_day), last_day)
    week_last = min(week_first + dt.timedelta(days=DAYS_PER_PAGE - 1), last_day)
    found = selectors.free_slots(
        treatment_type=treatment_type,
        first_day=week_first,
        last_day=week_last,
        now=now,
        patient_id=patient_id,
        duration_minutes=duration_minutes,
        exclude_appointment_id=exclude_appointment_id,
    )
    days = []
    for slot_day in found.days:
        offered = OfferedDay(slot_day.day)
        by_start: dict[dt.datetime, list[Any]] = {}
        for option in slot_day.options:
            # Half-hourly is plenty on a phone screen.
            if option.starts_at.astimezone(clock.clinic_tz()).minute % 30 == 0:
                by_start.setdefault(option.starts_at, []).append(option)
        for _, options in _spread(sorted(by_start.items())):
            option = next(
                (o for o in options if o.practitioner.pk == preferred_practitioner_id),
                options[0],
            )
            offered.times.append(
                OfferedTime(
                    starts_at=option.starts_at,
                    practitioner=option.practitioner,
                    value=slot_value(option.starts_at, option.practitioner.pk),
                    usual_practitioner=option.practitioner.pk == preferred_practitioner_id,
                )
            )
        if offered.times:
            days.append(offered)
    earlier = max(week_first - dt.timedelta(days=DAYS_PER_PAGE), first_day)
    # Types: pk=None finds nobody, as intended.
    usual = Practitioner.objects.filter(pk=preferred_practitioner_id).first()  # type: ignore[misc]
    return OfferedWeek(
        days=days,
        usual_practitioner=usual.display_name if usual else "",
        earlier_from=earlier if week_first > first_day else None,
        later_from=week_last + dt.timedelta(days=1) if week_last < last_day else None,
    )


def _spread(times: list[Any]) -> list[Any]:
    """At most ``MAX_TIMES_PER_DAY`` times, spread over the whole day (not just the morning):
    half-hourly if they fit, else on the hour, else evenly picked."""
    if len(times) <= MAX_TIMES_PER_DAY:
        return times
    on_the_hour = [item for item in times if item[0].astimezone(clock.clinic_tz()).minute == 0]
    if len(on_the_hour) <= MAX_TIMES_PER_DAY:
        return on_the_hour
    step = (len(on_the_hour) - 1) / (MAX_TIMES_PER_DAY - 1)
    return [on_the_hour[round(index * step)] for index in range(MAX_TIMES_PER_DAY)]


def reschedule_options(
    appointment: Appointment, *, now: dt.datetime, page_from: dt.date | None = None
) -> OfferedWeek:
    """Free times in the next three weeks; for a series session only between its neighbours
    (the booking service checks spacing again, this keeps impossible times off the page)."""
    first_day, last_day = _days_to_offer(appointment, now=now)
    minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    return _offer(
        treatment_type=appointment.treatment_type,
        first_day=first_day,
        last_day=last_day,
        page_from=page_from,
        now=now,
        patient_id=appointment.patient_id,
        preferred_practitioner_id=appointment.practitioner_id,
        duration_minutes=minutes,
        exclude_appointment_id=appointment.pk,
    )


def _days_to_offer(appointment: Appointment, *, now: dt.datetime) -> tuple[dt.date, dt.date]:
    """The next three weeks; for a series session only between its neighbours, spaced."""
    first_day = clock.today(now)
    last_day = first_day + dt.timedelta(days=RESCHEDULE_DAYS - 1)
    if appointment.series is not None and appointment.series_session_number:
        state = selectors.series_state(appointment.series, exclude_appointment_id=appointment.pk)
        previous_on, next_on = booking_rules.neighbours(
            sessions=state.sessions, number=appointment.series_session_number
        )
        gap = dt.timedelta(days=state.policy.min_days)
        if previous_on is not None:
            first_day = max(first_day, previous_on + gap)
        if next_on is not None:
            last_day = min(last_day, next_on - gap)
    return first_day, last_day


def pick_options(
    linked: LinkedSeries, *, now: dt.datetime, page_from: dt.date | None = None
) -> OfferedWeek:
    """Free times inside the series' next-session window only."""
    if linked.state != LinkState.OPEN or linked.window_first_day is None:
        return OfferedWeek(days=[])
    series = linked.series
    state = selectors.series_state(series)
    return _offer(
        treatment_type=series.treatment_type,
        first_day=linked.window_first_day,
        # Types: a linked series has a window.
        last_day=linked.window_last_day,  # type: ignore[arg-type]
        page_from=page_from,
        now=now,
        patient_id=series.patient_id,
        preferred_practitioner_id=state.preferred_practitioner_id,
    )


# -- what a patient can do through a link ---------------------------------------------------

PATIENT_CANCEL_REASON = "Cancelled by the patient through the email link"
PATIENT_MOVE_REASON = "Moved by the patient through the email link"


class SelfServiceRefused(DomainError):
    """The link cannot do this (any more); ``message`` says what the patient can do instead."""

    code = "self_service_refused"


def _require_open(linked: LinkedAppointment) -> Appointment:
    if linked.state != LinkState.OPEN:
        raise SelfServiceRefused(
            "This link can no longer change the appointment. Please call us on "
            f"{settings.CLINIC_PHONE}."
        )
    return linked.appointment


def within_cancel_notice(appointment: Appointment, *, now: dt.datetime) -> bool:
    """True when it is too late to cancel or move online (the notice period has started)."""
    notice = dt.timedelta(hours=settings.SELF_SERVICE_CANCEL_NOTICE_HOURS)
    return now >= appointment.starts_at - notice


def _too_late_message() -> str:
    return (
        f"It is less than {settings.SELF_SERVICE_CANCEL_NOTICE_HOURS} hours before your "
        f"appointment, so it can no longer be changed online. Please call us on "
        f"{settings.CLINIC_PHONE}."
    )


def patient_confirm(*, linked: LinkedAppointment, now: dt.datetime) -> Appointment:
    """The patient says they will come. Confirming twice is harmless."""
    appointment = _require_open(linked)
    return appointment_confirm(appointment=appointment, confirmed_by=None, now=now)


def patient_cancel(*, linked: LinkedAppointment, now: dt.datetime) -> Appointment:
    """Cancel, while the notice period allows; later only the clinic's phone will do."""
    appointment = _require_open(linked)
    if within_cancel_notice(appointment, now=now):
        raise SelfServiceRefused(_too_late_message())
    return appointment_cancel(
        appointment=appointment, reason=PATIENT_CANCEL_REASON, cancelled_by=None, now=now
    )


def patient_reschedule(*, linked: LinkedAppointment, slot: str, now: dt.datetime) -> Appointment:
    """Move to a free time through the booking service (availability and spacing rules)."""
    appointment = _require_open(linked)
    if within_cancel_notice(appointment, now=now):
        raise SelfServiceRefused(_too_late_message())
    starts_at, practitioner = _chosen(slot)
    _require_offered(
        reschedule_options(appointment, now=now, page_from=clock.local_day(starts_at)),
        starts_at=starts_at,
        practitioner=practitioner,
    )
    return appointment_reschedule(
        appointment=appointment,
        starts_at=starts_at,
        practitioner=practitioner,
        changed_by=None,
        reason=PATIENT_MOVE_REASON,
        now=now,
    )


def patient_pick(*, linked: LinkedSeries, slot: str, now: dt.datetime) -> Appointment:
    """Book the next session of a series at a time inside its window (the service enforces
    spacing, conflicts, hours and notice; the window check keeps the link to its purpose)."""
    if linked.state != LinkState.OPEN or linked.window_first_day is None:
        raise SelfServiceRefused(
            f"This link can no longer book a session. Please call us on {settings.CLINIC_PHONE}."
        )
    starts_at, practitioner = _chosen(slot)
    _require_offered(
        pick_options(linked, now=now, page_from=clock.local_day(starts_at)),
        starts_at=starts_at,
        practitioner=practitioner,
    )
    series = linked.series
    return appointment_book(
        patient=series.patient,
        practitioner=practitioner,
        treatment_type=series.treatment_type,
        starts_at=starts_at,
        series=series,
        booked_by=None,
        now=now,
    )


PICK_A_SHOWN_TIME = "Please pick one of the times shown."


def _chosen(slot: str) -> tuple[dt.datetime, Practitioner]:
    try:
        starts_at, practitioner_id = parse_slot_value(slot)
    except (ValueError, OverflowError, OSError):
        raise SelfServiceRefused(PICK_A_SHOWN_TIME) from None
    practitioner = Practitioner.objects.filter(pk=practitioner_id, is_active=True).first()
    if practitioner is None:
        raise SelfServiceRefused(PICK_A_SHOWN_TIME)
    return starts_at, practitioner


def _require_offered(
    week: OfferedWeek, *, starts_at: dt.datetime, practitioner: Practitioner
) -> None:
    """A link books only what its page offers: ``week`` is the same search, opened at the
    chosen day, so a time outside the offered range (a hand-made 70-days-out POST), off the
    half hours or with a practitioner the page would not name is refused before any write."""
    day = clock.local_day(starts_at)
    offered = any(
        time.starts_at == starts_at and time.practitioner.pk == practitioner.pk
        for offered_day in week.days
        if offered_day.day == day
        for time in offered_day.times
    )
    if not offered:
        raise SelfServiceRefused(PICK_A_SHOWN_TIME)


def open_unsubscribe_link(token: str) -> Patient:
    payload = read_token(token, purpose=Purpose.UNSUBSCRIBE)
    patient = Patient.objects.filter(pk=payload.subject_id).first()
    if patient is None or _erased(patient):
        raise LinkInvalid
    return patient


def patient_unsubscribe(*, patient: Patient, also_reminders: bool) -> Patient:
    """Stop follow-up and maintenance emails (and, if asked, appointment reminders too).

    Booking confirmations, changes and cancellations still go: they are the record of an
    arrangement, not marketing. The clinic's consent service writes and audits the change.
    """
    return patient_email_consent_set(
        patient=patient,
        followups=False,
        reminders=False if also_reminders else None,
        source=ConsentSource.LINK,
    )


def patient_subscribe_again(*, patient: Patient) -> Patient:
    """The way back from an unsubscribe: reminders, aftercare, follow-ups and maintenance."""
    return patient_email_consent_set(
        patient=patient, reminders=True, followups=True, source=ConsentSource.LINK
    )


# -- a new time for an appointment the clinic cancelled --------------------------------------


@dataclass(frozen=True)
class LinkedRebook:
    appointment: Appointment  # the one the clinic cancelled
    state: LinkState
    new_booking: Appointment | None = None


def _rebooked(appointment: Appointment, *, now: dt.datetime) -> Appointment | None:
    """The booking the patient made in its place: the same session of the series, or (not in
    a series) the same treatment booked since the cancellation."""
    active = Appointment.objects.filter(
        patient_id=appointment.patient_id,
        treatment_type_id=appointment.treatment_type_id,
        status__in=ACTIVE_STATUSES,
        starts_at__gt=now,
    )
    if appointment.series_id is not None and appointment.series_session_number:
        active = active.filter(
            series_id=appointment.series_id,
            series_session_number=appointment.series_session_number,
        )
    else:
        active = active.filter(created_at__gte=appointment.cancelled_at or appointment.created_at)
    return active.select_related("practitioner", "treatment_type").order_by("starts_at").first()


def open_rebook_link(token: str, *, now: dt.datetime) -> LinkedRebook:
    """The cancelled appointment a rebook link is for (``LinkInvalid`` / ``LinkExpired`` as
    :func:`read_token`), and whether a new time can still be picked through it."""
    payload = read_token(token, purpose=Purpose.REBOOK)
    appointment = (
        Appointment.objects.select_related("patient", "practitioner", "treatment_type", "series")
        .filter(pk=payload.subject_id)
        .first()
    )
    if appointment is None or _erased(appointment.patient):
        raise LinkInvalid
    new_booking = _rebooked(appointment, now=now)
    if new_booking is not None:
        return LinkedRebook(
            appointment=appointment, state=LinkState.BOOKED, new_booking=new_booking
        )
    if appointment.status != AppointmentStatus.CANCELLED or payload.version != appointment_version(
        appointment.starts_at
    ):
        return LinkedRebook(appointment=appointment, state=LinkState.OUTDATED)
    series = appointment.series
    if series is not None and series.status not in selectors.OPEN_SERIES_STATUSES:
        return LinkedRebook(appointment=appointment, state=LinkState.CLOSED)
    return LinkedRebook(appointment=appointment, state=LinkState.OPEN)


def _minutes(appointment: Appointment) -> int:
    return int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)


def rebook_options(
    linked: LinkedRebook, *, now: dt.datetime, page_from: dt.date | None = None
) -> OfferedWeek:
    """Free times for the same treatment (and, in a series, the same session between its
    neighbours), found by the same search as moving an appointment."""
    if linked.state != LinkState.OPEN:
        return OfferedWeek(days=[])
    appointment = linked.appointment
    first_day, last_day = _days_to_offer(appointment, now=now)
    return _offer(
        treatment_type=appointment.treatment_type,
        first_day=first_day,
        last_day=last_day,
        page_from=page_from,
        now=now,
        patient_id=appointment.patient_id,
        preferred_practitioner_id=appointment.practitioner_id,
        duration_minutes=_minutes(appointment),
    )


def patient_rebook(*, linked: LinkedRebook, slot: str, now: dt.datetime) -> Appointment:
    """Book the new time through the booking service (hours, closures, time off, conflicts,
    notice and spacing are checked there); a series session keeps its session number."""
    if linked.state != LinkState.OPEN:
        raise SelfServiceRefused(
            f"This link can no longer book a new time. Please call us on {settings.CLINIC_PHONE}."
        )
    appointment = linked.appointment
    starts_at, practitioner = _chosen(slot)
    _require_offered(
        rebook_options(linked, now=now, page_from=clock.local_day(starts_at)),
        starts_at=starts_at,
        practitioner=practitioner,
    )
    return appointment_book(
        patient=appointment.patient,
        practitioner=practitioner,
        treatment_type=appointment.treatment_type,
        starts_at=starts_at,
        series=appointment.series,
        series_session_number=appointment.series_session_number if appointment.series else None,
        duration_minutes=_minutes(appointment),
        booked_by=None,
        now=now,
    )
