"""'Pick a new time' after the clinic cancelled: the page behind the emailed link."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import pytest

from bookings import links
from bookings.models import Appointment, AppointmentStatus
from bookings.services.appointments import appointment_cancel
from tests.builders import at, book, london, open_clinic_every_day

pytestmark = pytest.mark.django_db

OPENED_AT = london(2026, 6, 2, 9)


@pytest.fixture
def cancelled(practitioner: Any, patient: Any) -> Appointment:
    open_clinic_every_day(practitioner)
    appointment = book(patient, practitioner, london(2026, 6, 10, 10), when=london(2026, 6, 1, 12))
    with at(london(2026, 6, 1, 13)):
        return appointment_cancel(appointment=appointment, reason="Clinic closed")


def rebook_path(appointment: Appointment) -> str:
    return urlsplit(
        links.rebook_link(appointment_id=appointment.pk, starts_at=appointment.starts_at)
    ).path


def visit(client: Any, url: str, *, data: Any = None) -> Any:
    with at(OPENED_AT):
        if data is None:
            return client.get(url)
        return client.post(url, data, follow=True)


def test_the_link_offers_times_and_books_the_chosen_one_saying_when(client, cancelled):
    page = visit(client, rebook_path(cancelled))
    assert page.status_code == 200
    assert "we are sorry we had to cancel your appointment" in page.content.decode()
    first_day = page.context["days"][0]
    assert first_day["day"] >= dt.date(2026, 6, 2)
    choice = first_day["times"][0]

    done = visit(client, rebook_path(cancelled), data={"slot": choice.value})

    new = Appointment.objects.exclude(pk=cancelled.pk).get()
    assert new.status == AppointmentStatus.BOOKED
    assert new.starts_at == choice.starts_at
    text = done.content.decode()
    assert "Done: your new time is booked." in text
    assert "Your Crystal microdermabrasion is booked for" in text
    # A second visit books nothing more.
    visit(client, rebook_path(cancelled), data={"slot": choice.value})
    assert Appointment.objects.count() == 2


def test_a_tampered_or_wrong_purpose_link_shows_nothing(client, cancelled):
    assert visit(client, rebook_path(cancelled)[:-4] + "xx/").status_code == 404
    cancel_token = links.make_token(
        purpose=links.Purpose.CANCEL,
        subject_id=cancelled.pk,
        version=links.appointment_version(cancelled.starts_at),
    )
    assert visit(client, f"/p/rebook/{cancel_token}/").status_code == 404


def test_a_time_not_offered_is_refused_with_a_message(client, cancelled):
    page = visit(client, rebook_path(cancelled), data={"slot": "rubbish"})
    assert "Please pick one of the times shown." in page.content.decode()
    assert Appointment.objects.count() == 1
