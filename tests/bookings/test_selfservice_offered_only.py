"""A patient link books only a time its page offers (issue 17, item 7).

The page offers the next three weeks (a series session only between its neighbours, a pick
link only its window), half-hourly, with the usual practitioner when free. A hand-made POST
for any other time (70 days out, a quarter past, another practitioner) is refused with the
page's own message and nothing changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import pytest

from bookings import links
from bookings.links import Purpose
from bookings.models import Appointment, AppointmentChange
from bookings.selfservice import slot_value
from bookings.services.appointments import appointment_cancel
from tests.builders import at, book, london, open_clinic_every_day, series_after_sessions

pytestmark = pytest.mark.django_db

BOOKED_AT = london(2026, 6, 1, 12)
STARTS_AT = london(2026, 6, 10, 10)
LOOKING_AT = london(2026, 6, 5, 18)
SEVENTY_DAYS_OUT = london(2026, 8, 14, 11)  # the page offers up to 25 June


def post(client: Any, url: str, slot: str, *, when: dt.datetime = LOOKING_AT) -> Any:
    with at(when):
        return client.post(url, {"slot": slot}, follow=True)


def path_of(url: str) -> str:
    return urlsplit(url).path


@pytest.fixture
def appointment(practitioner: Any, patient: Any) -> Appointment:
    open_clinic_every_day(practitioner)
    return book(patient, practitioner, STARTS_AT, when=BOOKED_AT)


def reschedule_path(appointment: Appointment) -> str:
    return path_of(
        links.appointment_link(
            purpose=Purpose.RESCHEDULE,
            appointment_id=appointment.pk,
            starts_at=appointment.starts_at,
        )
    )


def test_a_reschedule_link_refuses_a_time_70_days_out_and_changes_nothing(
    client, appointment, practitioner
):
    changes = AppointmentChange.objects.count()

    response = post(
        client, reschedule_path(appointment), slot_value(SEVENTY_DAYS_OUT, practitioner.pk)
    )

    assert "Please pick one of the times shown." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.starts_at == STARTS_AT
    assert AppointmentChange.objects.count() == changes


@pytest.mark.parametrize(
    "starts_at",
    [london(2026, 6, 8, 11, 15), london(2026, 6, 26, 11)],
    ids=["off-the-half-hour", "day-after-the-range"],
)
def test_a_reschedule_link_refuses_a_free_time_its_page_does_not_offer(
    client, appointment, practitioner, starts_at
):
    response = post(client, reschedule_path(appointment), slot_value(starts_at, practitioner.pk))

    assert "Please pick one of the times shown." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.starts_at == STARTS_AT


def test_a_reschedule_link_refuses_another_practitioner_when_the_page_offers_the_usual_one(
    client, appointment, second_practitioner
):
    other = second_practitioner
    open_clinic_every_day(other)

    response = post(
        client, reschedule_path(appointment), slot_value(london(2026, 6, 8, 11), other.pk)
    )

    assert "Please pick one of the times shown." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.practitioner_id != other.pk


def test_a_reschedule_link_still_books_an_offered_time(client, appointment, practitioner):
    post(client, reschedule_path(appointment), slot_value(london(2026, 6, 25, 11), practitioner.pk))

    appointment.refresh_from_db()
    assert appointment.starts_at == london(2026, 6, 25, 11)


def test_a_pick_link_refuses_a_time_70_days_out_and_books_nothing(client, practitioner, patient):
    open_clinic_every_day(practitioner)
    series = series_after_sessions(
        patient=patient, practitioner=practitioner, performed=[london(2026, 5, 25, 10)]
    )
    url = path_of(links.pick_link(series_id=series.pk, last_session_on=series.last_session_on))
    before = Appointment.objects.count()

    response = post(client, url, slot_value(SEVENTY_DAYS_OUT, practitioner.pk))

    assert "Please pick one of the times shown." in response.content.decode()
    assert Appointment.objects.count() == before


def test_a_rebook_link_refuses_a_time_70_days_out_and_books_nothing(
    client, appointment, practitioner
):
    with at(london(2026, 6, 1, 13)):
        appointment_cancel(appointment=appointment, reason="Clinic closed")
    url = path_of(links.rebook_link(appointment_id=appointment.pk, starts_at=appointment.starts_at))

    response = post(client, url, slot_value(SEVENTY_DAYS_OUT, practitioner.pk))

    assert "Please pick one of the times shown." in response.content.decode()
    assert Appointment.objects.count() == 1
