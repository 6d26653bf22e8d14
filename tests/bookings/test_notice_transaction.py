"""Leak 5, a lost confirmation: a booking and its notice commit or roll back together."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError

from bookings import services
from bookings.models import Appointment, AppointmentNotice
from tests.builders import MONDAY, local

pytestmark = pytest.mark.django_db


def book(patient: Any, practitioner: Any, treatment_type: Any) -> Appointment:
    return services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=treatment_type,
        starts_at=local(MONDAY, 10),
    )


def test_a_lost_confirmation_cannot_happen_when_the_process_dies_right_after_the_commit(
    bookable, practitioner, patient, django_capture_on_commit_callbacks
):
    # The on-commit callbacks never run: the worker died between the booking's commit and
    # anything scheduled after it. The confirmation must already be on record.
    with django_capture_on_commit_callbacks(execute=False):
        appointment = book(patient, practitioner, bookable)

    notice = AppointmentNotice.objects.get(appointment=appointment)
    assert notice.version == 1


def test_a_lost_confirmation_cannot_happen_when_the_notice_cannot_be_written(
    bookable, practitioner, patient, monkeypatch, django_capture_on_commit_callbacks
):
    def database_down(**_: Any) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("bookings.reminders.booking_change_record", database_down)

    with (
        pytest.raises(OperationalError),
        django_capture_on_commit_callbacks(execute=True),
    ):
        book(patient, practitioner, bookable)

    # No booking the patient is never told about: the desk sees the error and books again.
    assert not Appointment.objects.exists()
    assert not AppointmentNotice.objects.exists()


def test_a_lost_confirmation_cannot_happen_on_a_move_either(
    bookable, practitioner, patient, monkeypatch, django_capture_on_commit_callbacks
):
    appointment = book(patient, practitioner, bookable)

    def database_down(**_: Any) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("bookings.reminders.booking_change_record", database_down)
    with (
        pytest.raises(OperationalError),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.appointment_reschedule(appointment=appointment, starts_at=local(MONDAY, 14))

    appointment.refresh_from_db()
    assert appointment.starts_at == local(MONDAY, 10)
