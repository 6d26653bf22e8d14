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
from tests.factories import RoomFactory, treatment_type

LONDON = ZoneInfo("Europe/London")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A clinic-local wall-clock moment (Europe/London, the test settings' zone)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


def open_clinic(*practitioners: Practitioner, treatment: str = "Crystal microdermabrasion") -> Any:
    """Open every day 07:00-21:00 with one room for ``treatment``; returns the treatment type."""
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
    """One beat tick: the sweep task, run eagerly (test settings), sending what fell due."""
    with at(when):
        sweep_patient_messages.delay()


def sent_to(address: str) -> list[Any]:
    return [message for message in mail.outbox if address in message.to]


def ledger(**filters: Any) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(**filters).order_by("id"))
