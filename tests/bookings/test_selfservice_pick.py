"""'Pick my next session': free times inside the series window only, booked through the
booking service with its conflict and spacing rules."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import pytest

from bookings import links
from bookings.models import Appointment, AppointmentStatus
from bookings.selfservice import slot_value
from bookings.services.appointments import appointment_book
from tests.builders import (
    at,
    london,
    open_clinic_every_day,
    sent_to,
    series_after_sessions,
    signed_session,
    sweep,
    treatment_type,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

# One session on Monday 4 May 2026: the next may be from 18 May to 1 June.
FIRST_SESSION = london(2026, 5, 4, 10)
OPENED_AT = london(2026, 5, 20, 20, 30)  # too late for a time today


@pytest.fixture
def series(practitioner: Any, patient: Any) -> Any:
    open_clinic_every_day(practitioner)
    return series_after_sessions(
        patient=patient, practitioner=practitioner, performed=[FIRST_SESSION]
    )


def pick_path(series: Any) -> str:
    return urlsplit(
        links.pick_link(series_id=series.pk, last_session_on=series.last_session_on)
    ).path


def visit(client: Any, url: str, *, when: dt.datetime = OPENED_AT, data: Any = None) -> Any:
    with at(when):
        if data is None:
            return client.get(url)
        return client.post(url, data, follow=True)


def test_only_free_times_inside_the_series_window_are_offered_a_week_at_a_time(client, series):
    url = pick_path(series)
    first_week = visit(client, url)
    later_url = first_week.context["later_url"]
    second_week = visit(client, later_url)

    first_days = [day["day"] for day in first_week.context["days"]]
    second_days = [day["day"] for day in second_week.context["days"]]
    assert first_days[0] == dt.date(2026, 5, 21)  # today's last times are inside the notice
    assert first_days[-1] == dt.date(2026, 5, 26)
    assert second_days[0] == dt.date(2026, 5, 27)
    assert second_days[-1] == dt.date(2026, 6, 1)  # the window's last day
    assert second_week.context["later_url"] == ""
    assert first_week.context["earlier_url"] == ""
    assert second_week.context["earlier_url"] == f"{url}?from=2026-05-20"
    content = first_week.content.decode()
    assert "Wednesday 20 May 2026" in content  # the window as the patient sees it
    assert "Monday 1 June 2026" in content
    assert "Times are with Amara Okafor unless another name is shown." in content


def test_a_week_outside_the_window_cannot_be_asked_for(client, series):
    page = visit(client, f"{pick_path(series)}?from=2026-07-01")
    assert [day["day"] for day in page.context["days"]] == [dt.date(2026, 6, 1)]
    nonsense = visit(client, f"{pick_path(series)}?from=someday")
    assert nonsense.context["days"][0]["day"] == dt.date(2026, 5, 21)


def test_picking_a_time_books_the_next_session_of_the_series(client, series, patient):
    url = pick_path(series)
    chosen = slot_value(london(2026, 5, 27, 11), series.planned_by_id)

    done = visit(client, url, data={"slot": chosen})

    appointment = Appointment.objects.get(series=series, status=AppointmentStatus.BOOKED)
    assert appointment.starts_at == london(2026, 5, 27, 11)
    assert appointment.series_session_number == 2
    assert appointment.booked_by is None
    assert "Your next session is booked" in done.content.decode()
    assert "booked for <strong>Wednesday 27 May 2026 at 11:00</strong>" in done.content.decode()
    # The confirmation follows; the closing follow-up never goes.
    sweep(london(2026, 5, 20, 20, 35))
    sweep(london(2026, 5, 25, 9))
    subjects = [message.subject for message in sent_to(patient.email)]
    assert "Your appointment on Wednesday 27 May 2026 at 11:00 is booked" in subjects
    assert not any(subject.startswith("Last days") for subject in subjects)


def test_a_time_outside_the_window_is_refused_even_if_free(client, series):
    too_late = slot_value(london(2026, 6, 3, 11), series.planned_by_id)

    response = visit(client, pick_path(series), data={"slot": too_late})

    assert "Please pick one of the times shown." in response.content.decode()
    assert not Appointment.objects.filter(series=series).exists()


def test_a_time_before_the_spacing_minimum_is_refused(client, practitioner, patient):
    open_clinic_every_day(practitioner)
    series = series_after_sessions(
        patient=patient, practitioner=practitioner, performed=[FIRST_SESSION]
    )
    too_soon = slot_value(london(2026, 5, 15, 11), practitioner.pk)

    response = visit(
        client, pick_path(series), when=london(2026, 5, 12, 9), data={"slot": too_soon}
    )

    assert not Appointment.objects.filter(series=series).exists()
    assert "Please pick one of the times shown." in response.content.decode()


def test_a_pick_too_close_to_a_one_off_of_the_same_treatment_is_refused(
    client, series, practitioner, patient
):
    with at(OPENED_AT):
        appointment_book(
            patient=patient,
            practitioner=practitioner,
            treatment_type=series.treatment_type,
            starts_at=london(2026, 5, 22, 11),
        )

    response = visit(
        client,
        pick_path(series),
        data={"slot": slot_value(london(2026, 5, 27, 11), practitioner.pk)},
    )

    assert "sessions must be at least 14 days apart" in response.content.decode()
    assert not Appointment.objects.filter(series=series).exists()


def test_a_time_taken_meanwhile_is_explained_and_nothing_is_booked(client, series, practitioner):
    with at(OPENED_AT):
        appointment_book(
            patient=PatientFactory(),
            practitioner=practitioner,
            treatment_type=treatment_type(),
            starts_at=london(2026, 5, 27, 11),
        )

    response = visit(
        client,
        pick_path(series),
        data={"slot": slot_value(london(2026, 5, 27, 11), practitioner.pk)},
    )

    assert response.context["error"]
    assert not Appointment.objects.filter(series=series).exists()


def test_a_used_pick_link_shows_the_booked_session(client, series):
    url = pick_path(series)
    visit(client, url, data={"slot": slot_value(london(2026, 5, 27, 11), series.planned_by_id)})

    again = visit(client, url, when=OPENED_AT + dt.timedelta(days=1))

    assert "Your next session is booked for" in again.content.decode()
    assert again.context["days"] == []


def test_a_pick_link_from_before_the_last_session_is_out_of_date(client, practitioner, patient):
    open_clinic_every_day(practitioner)
    series = series_after_sessions(
        patient=patient, practitioner=practitioner, performed=[FIRST_SESSION]
    )
    old_url = pick_path(series)
    performed_at = london(2026, 5, 25, 10)
    with at(performed_at + dt.timedelta(minutes=40)):
        signed_session(series, practitioner, performed_at, signed_after=dt.timedelta(minutes=40))
    series.refresh_from_db()

    response = visit(client, old_url, when=london(2026, 5, 26, 9))

    assert "This link is out of date" in response.content.decode()
    assert response.context["days"] == []


def test_a_tampered_pick_link_is_a_404(client, series):
    url = pick_path(series)
    response = visit(client, url[:-5] + "xxxx/")
    assert response.status_code == 404
