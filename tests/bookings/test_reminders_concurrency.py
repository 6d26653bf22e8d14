"""Races that must not double an email: concurrent sweeps (two beats, a retried task) and
concurrent sends of one message, in real threads with their own database connections."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection

from bookings.reminders import sweep_booking_notices
from bookings.tasks import sweep_patient_messages
from clinic import messaging
from clinic.models import MessageKind, MessageStatus, OutboundMessage
from clinic.tasks import send_message
from tests.builders import book, london, open_clinic_every_day
from tests.factories import PatientFactory, PractitionerFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 4


def run_together(work: Callable[[], Any], *, workers: int = WORKERS) -> list[BaseException]:
    """Start ``workers`` threads at the same instant; return what any of them raised."""
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            work()
        except BaseException as error:  # collected and asserted on by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.fixture
def booked_patients(db: Any) -> list[Any]:
    """Five patients, each with an appointment on Wednesday 10 June 2026, booked a week ahead."""
    user = UserFactory(username="amara-race", role="practitioner")
    practitioner = PractitionerFactory(display_name="Amara Okafor", user=user)
    open_clinic_every_day(practitioner)
    patients = []
    for hour in range(9, 14):
        patient = PatientFactory()
        book(patient, practitioner, london(2026, 6, 10, hour), when=london(2026, 6, 1, 12))
        patients.append(patient)
    return patients


def test_concurrent_sweeps_send_each_message_once(booked_patients):
    with time_machine.travel(london(2026, 6, 8, 14), tick=False):
        errors = run_together(sweep_patient_messages.delay)

    assert errors == []
    for patient in booked_patients:
        subjects = [message.subject for message in mail.outbox if patient.email in message.to]
        assert len([subject for subject in subjects if subject.startswith("Reminder")]) == 1
        assert len([subject for subject in subjects if subject.endswith("is booked")]) == 1
    reminders = OutboundMessage.objects.filter(kind=MessageKind.APPOINTMENT_REMINDER)
    assert reminders.count() == len(booked_patients)
    assert set(reminders.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert set(reminders.values_list("attempts", flat=True)) == {1}


def test_concurrent_sends_of_one_message_deliver_it_once(booked_patients):
    with time_machine.travel(london(2026, 6, 1, 12, 3), tick=False):
        # Record the confirmations without sending them, as a sweep whose worker died would.
        message_ids = sweep_booking_notices(now=london(2026, 6, 1, 12, 3))
        assert len(message_ids) == len(booked_patients)
        mail.outbox.clear()

        def send_all() -> None:
            for message_id in message_ids:
                send_message.delay(message_id)
                messaging.message_send(message_id=message_id)

        errors = run_together(send_all)

    assert errors == []
    assert len(mail.outbox) == len(booked_patients)
    assert sorted(address for message in mail.outbox for address in message.to) == sorted(
        patient.email for patient in booked_patients
    )
