"""Shared set-up for the patient-message tests: an open clinic, bookings through the real
services (with their on-commit notifications run), sweeps and the emails they sent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.core import mail
from django.test import TestCase

from bookings.models import Appointment, WorkingHours
from bookings.services.appointments import (
    appointment_book,
    appointment_cancel,
    appointment_confirm,
    appointment_reschedule,
)
from bookings.tasks import sweep_patient_messages
from clinic.models import OpeningHours, OutboundMessage, Patient, Practitioner
from clinic.tasks import dispatch_due_messages
from tests.factories import RoomFactory, treatment_type
from treatments.catalogue import DEFAULT_TREATMENT_TYPES
from treatments.models import TreatmentType

LONDON = ZoneInfo("Europe/London")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A clinic-local wall-clock moment (Europe/London, the test settings' zone)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


def open_clinic(*practitioners: Practitioner, treatment: str = "Crystal microdermabrasion") -> Any:
    """Open every day 07:00-21:00 with one room for ``treatment``; returns the treatment type."""
    ensure_catalogue()
    kind = treatment_type(treatment)
    kind.rooms.add(RoomFactory(name="Room 1"))
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


def ensure_catalogue() -> None:
    """The data migration's treatment types (a transactional test's flush removes them)."""
    for entry in DEFAULT_TREATMENT_TYPES:
        TreatmentType.objects.get_or_create(name=entry["name"], defaults=entry)


@contextmanager
def at(moment: dt.datetime) -> Iterator[None]:
    """Freeze the clock at ``moment`` and run on-commit callbacks (booking notifications)."""
    with time_machine.travel(moment, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        yield


def book(
    patient: Patient,
    practitioner: Practitioner,
    starts_at: dt.datetime,
    *,
    when: dt.datetime,
    **extra: Any,
) -> Appointment:
    """Book through the real service at the moment ``when`` (notifications included)."""
    with at(when):
        return appointment_book(
            patient=patient,
            practitioner=practitioner,
            treatment_type=extra.pop("treatment", None) or treatment_type(),
            starts_at=starts_at,
            **extra,
        )


def move(appointment: Appointment, starts_at: dt.datetime, *, when: dt.datetime) -> Appointment:
    with at(when):
        return appointment_reschedule(appointment=appointment, starts_at=starts_at)


def cancel(appointment: Appointment, *, when: dt.datetime, reason: str = "Clinic closed") -> Any:
    with at(when):
        return appointment_cancel(appointment=appointment, reason=reason)


def confirm(appointment: Appointment, *, when: dt.datetime) -> Any:
    with at(when):
        return appointment_confirm(appointment=appointment)


def sweep(when: dt.datetime) -> None:
    """One beat tick: both scheduled tasks, run eagerly (test settings): the sweeps record and
    send what fell due, the dispatcher sends what waits for a retry."""
    with at(when):
        sweep_patient_messages.delay()
        dispatch_due_messages.delay()


def sent_to(address: str) -> list[Any]:
    return [message for message in mail.outbox if address in message.to]


def ledger(**filters: Any) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(**filters).order_by("id"))


def series_after_sessions(
    patient: Patient,
    practitioner: Practitioner,
    performed: list[dt.datetime],
    *,
    planned: int = 6,
    aftercare_additions: str = "",
) -> Any:
    """A series built through the treatment services: an assessment, the plan and one signed
    session (with its aftercare note) at each moment in ``performed``."""
    from treatments.services.assessments import AssessmentDetails, assessment_record
    from treatments.services.series import series_plan
    from treatments.services.sessions import SessionRecord, session_log, session_sign

    user = practitioner.user
    first = performed[0]
    assessed = first - dt.timedelta(days=1)
    with at(assessed):
        assessment_record(
            patient=patient,
            user=user,
            details=AssessmentDetails(
                assessed_on=assessed.astimezone(LONDON).date(),
                fitzpatrick=2,
                skin_type="normal",
                concerns={"dull_rough": "mild"},
                scar_type="none",
                contraindications=frozenset(),
            ),
            sign=True,
            now=assessed,
        )
        series = series_plan(
            patient=patient,
            treatment_type=treatment_type(),
            planned_by=practitioner,
            targeted_concerns=["dull_rough"],
            planned_sessions=planned,
            start_on=first.astimezone(LONDON).date(),
            by=user,
            today=assessed.astimezone(LONDON).date(),
        )
    for performed_at in performed:
        signed_at = performed_at + dt.timedelta(minutes=40)
        with at(signed_at):
            logged = session_log(
                series=series,
                record=SessionRecord(
                    practitioner=practitioner,
                    performed_at=performed_at,
                    areas=["face"],
                    parameters={"intensity": 4, "vacuum": 4, "crystal_flow": 3, "passes": 2},
                    duration_minutes=30,
                    notes="Mild erythema on the left cheek",
                    aftercare_additions=aftercare_additions,
                ),
                by=user,
                now=signed_at,
            )
            session_sign(session=logged.session, by=user, now=signed_at)
    series.refresh_from_db()
    return series
