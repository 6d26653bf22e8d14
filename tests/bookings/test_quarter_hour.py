"""Appointments start on the 15-minute grid the form promises, whatever the path."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.messages import get_messages

from bookings import selectors, services, slots
from bookings.models import Appointment
from bookings.services.tokens import api_token_issue
from tests.builders import LONDON, MONDAY, local

pytestmark = pytest.mark.django_db

QUARTER_HOUR = "Appointments start on the quarter hour: 10:00 or 10:15"


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        (dt.time(10, 0), None),
        (dt.time(10, 15), None),
        (dt.time(10, 45), None),
        (dt.time(10, 7), "Appointments start on the quarter hour: 10:00 or 10:15, not 10:07."),
        (dt.time(10, 14), "Appointments start on the quarter hour: 10:00 or 10:15, not 10:14."),
        (dt.time(23, 59), "Appointments start on the quarter hour: 23:45 or 00:00, not 23:59."),
        (dt.time(10, 0, 30), "Appointments start on the quarter hour: 10:00 or 10:15, not 10:00."),
    ],
)
def test_a_start_off_the_quarter_hour_is_refused_with_the_two_nearest_starts(wall, expected):
    starts_at = dt.datetime.combine(MONDAY, wall, tzinfo=LONDON).astimezone(dt.UTC)
    assert slots.off_grid_problem(starts_at, LONDON) == expected


def test_a_staff_booking_at_10_07_is_refused(bookable, practitioner, patient):
    with pytest.raises(services.SlotUnavailable, match=QUARTER_HOUR):
        services.appointment_book(
            patient=patient,
            practitioner=practitioner,
            treatment_type=bookable,
            starts_at=local(MONDAY, 10, 7),
        )
    assert not Appointment.objects.exists()


def test_a_move_to_10_07_is_refused_and_changes_nothing(bookable, practitioner, patient):
    appointment = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 11),
    )
    with pytest.raises(services.SlotUnavailable, match=QUARTER_HOUR):
        services.appointment_reschedule(appointment=appointment, starts_at=local(MONDAY, 10, 7))
    appointment.refresh_from_db()
    assert appointment.starts_at == local(MONDAY, 11)


def test_the_booking_form_refuses_10_07_with_the_message(
    client, bookable, practitioner, patient, receptionist
):
    client.force_login(receptionist)
    response = client.post(
        "/appointments/new/",
        {
            "patient": patient.pk,
            "treatment_type": bookable.pk,
            "practitioner": practitioner.pk,
            "date": "2026-03-23",
            "time": "10:07",
        },
    )
    assert response.status_code == 200
    assert QUARTER_HOUR in response.content.decode()
    assert not [str(message) for message in get_messages(response.wsgi_request)]
    assert not Appointment.objects.exists()


def test_the_api_refuses_a_booking_at_10_07_with_409_and_the_message(
    client, bookable, practitioner, patient, receptionist
):
    token = api_token_issue(username=receptionist.username)[1]
    response = client.post(
        "/api/appointments",
        json.dumps(
            {
                "patient_id": patient.pk,
                "practitioner_id": practitioner.pk,
                "treatment_type_id": bookable.pk,
                "starts_at": local(MONDAY, 10, 7).isoformat(),
            }
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 409
    assert response.json()["detail"].startswith(QUARTER_HOUR)


def test_slot_search_offers_only_quarter_hours_after_an_appointment_ending_off_the_grid(
    bookable, practitioner, patient
):
    appointment = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    # Existing data from before the grid was enforced: 10:07-10:37, cleanup to 10:47.
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=local(MONDAY, 10, 7),
        ends_at=local(MONDAY, 10, 37),
        blocked_until=local(MONDAY, 10, 47),
    )
    result = selectors.free_slots(
        treatment_type=bookable,
        first_day=MONDAY,
        last_day=MONDAY,
        now=local(MONDAY, 8),
        practitioner=practitioner,
    )
    starts = [option.starts_at.astimezone(LONDON) for day in result.days for option in day.options]
    assert starts
    assert all(start.minute % 15 == 0 and start.second == 0 for start in starts)
    assert local(MONDAY, 10, 45) not in starts  # cleanup runs to 10:47
    assert local(MONDAY, 11) in starts  # not 10:47
    assert local(MONDAY, 9, 45) not in starts  # would run into 10:07
