"""Builders for the test suite: a clinic ready to book, assessments, series and sessions,
bookings and sweeps at a given moment.

The one place for them, next to the row factories (``tests/factories.py``: rows with no
invariants) and the personas (``tests/conftest.py``). State that must keep the app's
invariants (a signed assessment, a planned series, spaced and signed sessions, bookings) is
built by calling the services, so no test starts from a state the app could not reach.

Times are Europe/London wall-clock times (the test settings' zone). ``MONDAY`` is 23 March
2026, the week before the clocks go forward (Sunday 29 March).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import time_machine
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from bookings.models import Appointment, BookingSettings, WorkingHours
from clinic import clock
from clinic.models import OpeningHours, OutboundMessage, Patient, Practitioner, Room
from treatments.catalogue import DEFAULT_TREATMENT_TYPES
from treatments.models import SkinAssessment, TreatmentSeries, TreatmentSession, TreatmentType

LONDON = ZoneInfo("Europe/London")
CRYSTAL = "Crystal microdermabrasion"
MONDAY = dt.date(2026, 3, 23)
CRYSTAL_SETTINGS = {"intensity": 4, "vacuum": 5, "crystal_flow": 3, "passes": 2}
# What the default assessment records and what a series built here targets.
ASSESSED_CONCERNS = {"uneven_texture": "moderate"}


# --- Moments --------------------------------------------------------------------------------


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """An aware moment at a clinic wall-clock time on ``day`` (stored as UTC by the ORM)."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An aware clinic wall-clock moment from its numbers."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


@contextmanager
def at(moment: dt.datetime) -> Iterator[None]:
    """Freeze the clock at ``moment`` and run on-commit callbacks (booking notifications)."""
    with time_machine.travel(moment, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        yield


# --- Catalogue and an open clinic -----------------------------------------------------------


def treatment_type(name: str = CRYSTAL) -> TreatmentType:
    """The catalogue rows are installed by a data migration; tests fetch them by name."""
    return TreatmentType.objects.get(name=name)


def ensure_catalogue() -> None:
    """The data migration's treatment types (a transactional test's flush removes them)."""
    for entry in DEFAULT_TREATMENT_TYPES:
        TreatmentType.objects.get_or_create(name=entry["name"], defaults=entry)


def crystal_with_room(room_name: str = "Room 1") -> TreatmentType:
    """Crystal microdermabrasion (30 min + 10 min cleanup) hosted in one room."""
    ensure_catalogue()
    crystal = treatment_type(CRYSTAL)
    room, _ = Room.objects.get_or_create(name=room_name)
    crystal.rooms.add(room)
    return crystal


def open_clinic_business_hours(*, notice_minutes: int = 60) -> None:
    """Open 08:00-20:00 Monday to Friday and 09:00-17:00 Saturday; closed Sunday. The minimum
    notice as given. Nobody works yet (see ``working_week``) and no room is set up."""
    for weekday in range(5):
        OpeningHours.objects.create(weekday=weekday, opens_at=dt.time(8), closes_at=dt.time(20))
    OpeningHours.objects.create(weekday=5, opens_at=dt.time(9), closes_at=dt.time(17))
    settings_row = BookingSettings.load()
    settings_row.minimum_notice_minutes = notice_minutes
    settings_row.save()


def open_clinic_every_day(*practitioners: Practitioner, treatment: str = CRYSTAL) -> TreatmentType:
    """Open every day 07:00-21:00, the ``practitioners`` working all of it, one room for
    ``treatment``; returns that treatment type."""
    ensure_catalogue()
    kind = treatment_type(treatment)
    kind.rooms.add(Room.objects.get_or_create(name="Room 1")[0])
    for weekday in range(7):
        OpeningHours.objects.get_or_create(
            weekday=weekday, defaults={"opens_at": dt.time(7), "closes_at": dt.time(21)}
        )
        for practitioner in practitioners:
            WorkingHours.objects.get_or_create(
                practitioner=practitioner,
                weekday=weekday,
                defaults={"starts_at": dt.time(7), "ends_at": dt.time(21)},
            )
    return kind


def working_week(practitioner: Practitioner, *, weekdays: Iterable[int] = range(5)) -> None:
    """09:00-18:00 with a break 13:00-13:45 on the given weekdays (Monday is 0)."""
    for weekday in weekdays:
        WorkingHours.objects.create(
            practitioner=practitioner,
            weekday=weekday,
            starts_at=dt.time(9),
            ends_at=dt.time(18),
            break_starts_at=dt.time(13),
            break_ends_at=dt.time(13, 45),
        )


# --- Assessments ----------------------------------------------------------------------------


def assessment_details(**changes: Any) -> Any:
    """A healthy Fitzpatrick II assessment with normal skin, dated today, changed as a test
    needs (``contraindications`` may be any iterable)."""
    from treatments.services.assessments import AssessmentDetails

    values: dict[str, Any] = {
        "assessed_on": clock.today(),
        "fitzpatrick": 2,
        "skin_type": "normal",
        "concerns": dict(ASSESSED_CONCERNS),
        "scar_type": "none",
        "contraindications": frozenset(),
    }
    values.update(changes)
    values["contraindications"] = frozenset(values["contraindications"])
    return AssessmentDetails(**values)


def assess(
    patient: Patient, *, by: Any, sign: bool = True, now: dt.datetime | None = None, **changes: Any
) -> SkinAssessment:
    """An assessment recorded through the assessment service by the staff user ``by`` (a
    practitioner's user) at ``now`` (by default the current time), signed unless
    ``sign=False``; dated ``assessed_on``, by default the day of ``now``."""
    from treatments.services.assessments import assessment_record

    now = now or timezone.now()
    changes.setdefault("assessed_on", clock.today(now))
    return assessment_record(
        patient=patient, user=by, details=assessment_details(**changes), sign=sign, now=now
    )


# --- Series and sessions --------------------------------------------------------------------


def planned_series(
    patient: Patient,
    practitioner: Practitioner,
    *,
    start_on: dt.date,
    planned_sessions: int = 6,
    treatment_type: TreatmentType | None = None,
    override_reason: str = "",
    today: dt.date | None = None,
    **assessment: Any,
) -> TreatmentSeries:
    """A series planned through the series service, nothing done yet. A patient with no
    assessment is assessed first, at 09:00 on ``today`` (the planning day, by default
    ``start_on``)."""
    from treatments.services.series import series_plan

    today = today or start_on
    if not patient.assessments.exists():
        assess(patient, by=practitioner.user, now=local(today, 9), **assessment)
    return series_plan(
        patient=patient,
        treatment_type=treatment_type or TreatmentType.objects.get(name=CRYSTAL),
        planned_by=practitioner,
        targeted_concerns=list(ASSESSED_CONCERNS),
        planned_sessions=planned_sessions,
        start_on=start_on,
        by=practitioner.user,
        today=today,
        override_reason=override_reason,
    )


def session_record(practitioner: Practitioner, performed_at: dt.datetime, **changes: Any) -> Any:
    """What the session log form would send for a crystal session, changed as a test needs."""
    from treatments.services.sessions import SessionRecord

    values: dict[str, Any] = {
        "practitioner": practitioner,
        "performed_at": performed_at,
        "areas": ["face"],
        "parameters": dict(CRYSTAL_SETTINGS),
        "duration_minutes": 30,
        "redness": "mild",
        "comfort": 4,
    }
    values.update(changes)
    return SessionRecord(**values)


def logged_session(
    series: TreatmentSeries,
    practitioner: Practitioner,
    performed_at: dt.datetime,
    *,
    override: str = "",
    logged_after: dt.timedelta = dt.timedelta(hours=1),
    **changes: Any,
) -> TreatmentSession:
    """The next session of ``series`` logged (not signed) through the session service by the
    practitioner, ``logged_after`` it started."""
    from treatments.services.sessions import session_log

    return session_log(
        series=series,
        record=session_record(practitioner, performed_at, **changes),
        by=practitioner.user,
        now=performed_at + logged_after,
        spacing_override_reason=override,
    ).session


def signed_session(
    series: TreatmentSeries,
    practitioner: Practitioner,
    performed_at: dt.datetime,
    *,
    signed_after: dt.timedelta = dt.timedelta(hours=1),
    **changes: Any,
) -> TreatmentSession:
    """The next session of ``series`` logged and signed by the practitioner through the
    session services, ``signed_after`` it started."""
    from treatments.services.sessions import session_sign

    session = logged_session(
        series, practitioner, performed_at, logged_after=signed_after, **changes
    )
    session_sign(session=session, by=practitioner.user, now=performed_at + signed_after)
    session.refresh_from_db()
    return session


def signed_sessions_every(
    series: TreatmentSeries,
    practitioner: Practitioner,
    *,
    first: dt.datetime,
    count: int,
    days: int = 21,
) -> list[TreatmentSession]:
    """``count`` signed sessions, ``days`` apart, from ``first`` (clinic-local wall time)."""
    sessions = []
    for index in range(count):
        when = (first.replace(tzinfo=None) + dt.timedelta(days=days * index)).replace(
            tzinfo=first.tzinfo
        )
        sessions.append(signed_session(series, practitioner, when))
    return sessions


def series_after_sessions(
    *,
    patient: Patient,
    practitioner: Practitioner,
    performed: Sequence[dt.datetime | dt.date],
    treatment_type: TreatmentType | None = None,
    planned: int = 6,
    override_reason: str = "",
    aftercare_additions: str = "",
) -> TreatmentSeries:
    """A series whose first sessions were performed (a date means 10:00 that day) and signed,
    built through the services at each moment with their on-commit work run (aftercare
    notes): assessed the day before the first session unless the patient already has an
    assessment, planned that day, then each session logged and signed 40 minutes after it
    started. ``performed`` may be empty: a series planned to start today."""
    moments = [
        moment if isinstance(moment, dt.datetime) else local(moment, 10) for moment in performed
    ]
    first_day = clock.local_day(moments[0]) if moments else clock.today()
    planning_day = first_day - dt.timedelta(days=1) if moments else first_day
    with at(local(planning_day, 9)):
        series = planned_series(
            patient,
            practitioner,
            start_on=first_day,
            planned_sessions=planned,
            treatment_type=treatment_type,
            override_reason=override_reason,
            today=planning_day,
        )
    for performed_at in moments:
        with at(performed_at + dt.timedelta(minutes=40)):
            signed_session(
                series,
                practitioner,
                performed_at,
                signed_after=dt.timedelta(minutes=40),
                aftercare_additions=aftercare_additions,
                notes="Mild erythema on the left cheek",
            )
    series.refresh_from_db()
    return series


# --- Bookings, sweeps and what they sent ----------------------------------------------------


def book(
    patient: Patient,
    practitioner: Practitioner,
    starts_at: dt.datetime,
    *,
    when: dt.datetime,
    **extra: Any,
) -> Appointment:
    """An appointment booked through the booking service at the moment ``when``
    (notifications included)."""
    from bookings.services.appointments import appointment_book

    with at(when):
        return appointment_book(
            patient=patient,
            practitioner=practitioner,
            treatment_type=extra.pop("treatment", None) or treatment_type(),
            starts_at=starts_at,
            **extra,
        )


def move(appointment: Appointment, starts_at: dt.datetime, *, when: dt.datetime) -> Appointment:
    from bookings.services.appointments import appointment_reschedule

    with at(when):
        return appointment_reschedule(appointment=appointment, starts_at=starts_at)


def cancel(appointment: Appointment, *, when: dt.datetime, reason: str = "Clinic closed") -> Any:
    from bookings.services.appointments import appointment_cancel

    with at(when):
        return appointment_cancel(appointment=appointment, reason=reason)


def confirm(appointment: Appointment, *, when: dt.datetime) -> Any:
    from bookings.services.appointments import appointment_confirm

    with at(when):
        return appointment_confirm(appointment=appointment)


def sweep(when: dt.datetime) -> None:
    """One beat tick: both scheduled tasks, run eagerly (test settings): the sweeps record and
    send what fell due, the dispatcher sends what waits for a retry."""
    from bookings.tasks import sweep_patient_messages
    from clinic.tasks import dispatch_due_messages

    with at(when):
        sweep_patient_messages.delay()
        dispatch_due_messages.delay()


def sent_to(address: str) -> list[Any]:
    return [message for message in mail.outbox if address in message.to]


def ledger(**filters: Any) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(**filters).order_by("id"))


def calendar_attached(message: Any) -> icalendar.Calendar:
    """The one .ics attached to an email, parsed as a calendar app reads it (RFC 5545)."""
    [(filename, content, mimetype)] = message.attachments
    assert filename == "appointment.ics"
    assert mimetype.startswith("text/calendar")
    return icalendar.Calendar.from_ical(content)


def calendar_event(message: Any) -> icalendar.Event:
    """The one event of the .ics attached to an email."""
    [event] = calendar_attached(message).walk("VEVENT")
    return event
