"""Twenty people try to book the same slot at once: exactly one wins, on both databases.

Each attempt runs in its own thread with its own database connection (closed when the
thread ends). On SQLite the ``BEGIN IMMEDIATE`` transactions queue behind one another; on
PostgreSQL the practitioner row lock queues them and the exclusion constraints catch what
a lock does not cover (two practitioners racing for one room).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from bookings import services
from bookings.models import ACTIVE_STATUSES, Appointment
from bookings.services.tokens import api_token_issue
from clinic.models import Room
from tests.builders import MONDAY, local
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)

ATTEMPTS = 20
SLOT = local(MONDAY, 10)


def race(count: int, attempt: Callable[[int], Any]) -> list[Any]:
    """Run ``attempt(i)`` in ``count`` threads released together; results or exceptions."""
    barrier = threading.Barrier(count)
    outcomes: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = attempt(index)
        except BaseException as error:
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a booking attempt hung"
    return outcomes


def test_twenty_concurrent_service_bookings_of_one_slot_leave_exactly_one(bookable, practitioner):
    patients = [PatientFactory() for _ in range(ATTEMPTS)]

    outcomes = race(
        ATTEMPTS,
        lambda index: services.appointment_book(
            patient=patients[index],
            practitioner=practitioner,
            treatment_type=bookable,
            starts_at=SLOT,
        ),
    )

    winners = [outcome for outcome in outcomes if isinstance(outcome, Appointment)]
    losers = [outcome for outcome in outcomes if not isinstance(outcome, Appointment)]
    assert len(winners) == 1
    assert len(losers) == ATTEMPTS - 1
    assert all(isinstance(loser, services.SlotUnavailable) for loser in losers), losers
    assert all("Amara Okafor" in loser.message or "taken" in loser.message for loser in losers)
    assert Appointment.objects.filter(status__in=ACTIVE_STATUSES).count() == 1


def test_twenty_concurrent_bookings_by_two_practitioners_for_the_one_room_leave_one(
    bookable, practitioner, second_practitioner
):
    """Locks are per practitioner, so two bookings can pass their checks at the same time;
    the room's exclusion constraint (PostgreSQL) or the serialised transaction (SQLite)
    still lets only one through."""
    patients = [PatientFactory() for _ in range(ATTEMPTS)]
    practitioners = [practitioner, second_practitioner]

    outcomes = race(
        ATTEMPTS,
        lambda index: services.appointment_book(
            patient=patients[index],
            practitioner=practitioners[index % 2],
            treatment_type=bookable,
            starts_at=SLOT,
        ),
    )

    winners = [outcome for outcome in outcomes if isinstance(outcome, Appointment)]
    assert len(winners) == 1
    losers = [outcome for outcome in outcomes if not isinstance(outcome, Appointment)]
    assert all(isinstance(loser, services.SlotUnavailable) for loser in losers), [
        repr(loser) for loser in losers if not isinstance(loser, services.SlotUnavailable)
    ]
    assert Appointment.objects.filter(room__name="Room 1", starts_at=SLOT).count() == 1


def test_twenty_concurrent_booking_form_posts_leave_one_and_tell_the_others(
    bookable, practitioner, receptionist
):
    patients = [PatientFactory() for _ in range(ATTEMPTS)]
    clients = []
    for _ in range(ATTEMPTS):
        client = Client()
        client.force_login(receptionist)
        clients.append(client)

    def post(index: int) -> Any:
        return clients[index].post(
            "/appointments/new/",
            {
                "patient": patients[index].pk,
                "treatment_type": bookable.pk,
                "practitioner": practitioner.pk,
                "date": "2026-03-23",
                "time": "10:00",
            },
        )

    responses = race(ATTEMPTS, post)

    assert not [response for response in responses if isinstance(response, BaseException)]
    redirected = [response for response in responses if response.status_code == 302]
    refused = [response for response in responses if response.status_code == 200]
    assert len(redirected) == 1
    assert len(refused) == ATTEMPTS - 1
    for response in refused:
        assert "Amara Okafor is already booked from 10:00 to 10:40" in response.content.decode()
    assert Appointment.objects.count() == 1


def test_twenty_concurrent_api_bookings_over_http_leave_one_and_409_the_others(
    live_server, bookable, practitioner, receptionist
):
    patients = [PatientFactory() for _ in range(ATTEMPTS)]
    _, token = api_token_issue(username=receptionist.username)

    def call(index: int) -> tuple[int, dict]:
        body = json.dumps(
            {
                "patient_id": patients[index].pk,
                "practitioner_id": practitioner.pk,
                "treatment_type_id": bookable.pk,
                "starts_at": SLOT.isoformat(),
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - the live test server's http URL
            f"{live_server.url}/api/appointments",
            data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    outcomes = race(ATTEMPTS, call)

    assert not [outcome for outcome in outcomes if isinstance(outcome, BaseException)], outcomes
    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [201] + [409] * (ATTEMPTS - 1)
    for status, body in outcomes:
        if status == 409:
            assert "already booked" in body["detail"] or "taken" in body["detail"]
    assert Appointment.objects.count() == 1


def test_second_practitioner_is_unaffected_by_a_race_for_the_first(
    bookable, practitioner, second_practitioner
):
    """Sanity: the lock is per practitioner, not global; both can be booked at once when a
    second room exists."""
    Room.objects.create(name="Room 2").treatment_types.add(bookable)
    patients = [PatientFactory(), PatientFactory()]
    outcomes = race(
        2,
        lambda index: services.appointment_book(
            patient=patients[index],
            practitioner=[practitioner, second_practitioner][index],
            treatment_type=bookable,
            starts_at=SLOT,
        ),
    )
    assert all(isinstance(outcome, Appointment) for outcome in outcomes), outcomes
    assert {outcome.room.name for outcome in outcomes} == {"Room 1", "Room 2"}
