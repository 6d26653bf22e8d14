"""Top-level services open a durable transaction: a caller cannot wrap them in its own.

pytest-django's ``db`` fixture runs each test inside Django's ``TestCase`` atomics, which are
marked as the test's own, so a durable block directly inside a test is allowed (as it is in
production); a ``transaction.atomic()`` the caller opens around a service is not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from bookings import services
from bookings.models import AppointmentStatus
from clinic import messaging
from clinic import services as clinic_services
from tests.builders import MONDAY, local
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NESTED = "A durable atomic block cannot be nested within another atomic block."


def book(patient: Any, practitioner: Any, treatment_type: Any) -> Any:
    return services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=treatment_type,
        starts_at=local(MONDAY, 10),
    )


def details() -> clinic_services.PatientDetails:
    patient = PatientFactory.build()
    return clinic_services.PatientDetails.of(patient)


SERVICES: dict[str, Callable[..., Any]] = {
    "appointment_book": lambda world: book(*world),
    "appointment_confirm": lambda world: services.appointment_confirm(appointment=book(*world).pk),
    "patient_create": lambda world: clinic_services.patient_create(details=details()),
    "message_resend": lambda world: messaging.message_resend(message_id=0),
}


@pytest.fixture
def world(bookable: Any, practitioner: Any, patient: Any) -> tuple[Any, Any, Any]:
    return patient, practitioner, bookable


@pytest.mark.parametrize("service", SERVICES)
def test_a_caller_that_wraps_a_top_level_service_in_its_own_transaction_fails(world, service):
    with pytest.raises(RuntimeError, match=NESTED), transaction.atomic():
        SERVICES[service](world)


def test_the_same_services_run_on_their_own_inside_the_test_database(world):
    appointment = book(*world)
    confirmed = services.appointment_confirm(appointment=appointment.pk)
    assert confirmed.status == AppointmentStatus.CONFIRMED
    assert clinic_services.patient_create(details=details()).pk
