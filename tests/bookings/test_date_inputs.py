"""Leak 4: a date at either end of the calendar (or no date at all) is a clear 4xx, not a 500."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.contrib.messages import get_messages

from bookings.services.tokens import api_token_issue
from clinic import date_input

pytestmark = pytest.mark.django_db

EXTREMES = ["9999-12-31", "0001-01-01", "2026-02-30", "soon"]


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("page", ["/calendar/", "/calendar/week/{practitioner}/"])
def test_a_calendar_asked_for_an_impossible_date_goes_to_today_and_says_why(
    client: Any, bookable: Any, practitioner: Any, receptionist: Any, page: str, value: str
):
    client.force_login(receptionist)
    url = page.format(practitioner=practitioner.pk)

    response = client.get(url, {"date": value})

    assert response.status_code == 302
    assert response["Location"] == url
    (message,) = [str(message) for message in get_messages(response.wsgi_request)]
    assert value in message
    assert "YYYY-MM-DD" in message or "choose a date between" in message


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize(
    ("page", "field"),
    [
        ("/slots/?first_day={value}", "first_day"),
        ("/slots/?first_day=2026-03-23&last_day={value}", "last_day"),
    ],
)
def test_the_slot_search_page_explains_an_impossible_date_on_its_field(
    client: Any, bookable: Any, receptionist: Any, page: str, field: str, value: str
):
    client.force_login(receptionist)

    response = client.get(page.format(value=value))

    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("parameter", ["first_day", "last_day"])
def test_the_slots_api_answers_an_impossible_date_with_422(
    client: Any, bookable: Any, receptionist: Any, parameter: str, value: str
):
    token = api_token_issue(username=receptionist.username)[1]
    params = {"treatment_type_id": bookable.pk, "first_day": "2026-03-23", parameter: value}

    response = client.get("/api/slots", params, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 422
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "starts_at",
    ["9999-12-31T23:45:00+00:00", "0001-01-01T00:00:00+00:00", "9999-12-31T23:45:00-05:00", "soon"],
)
@pytest.mark.parametrize("path", ["/api/appointments", "/api/appointments/{pk}/reschedule"])
def test_the_appointments_api_answers_an_impossible_start_with_422(
    client: Any,
    bookable: Any,
    practitioner: Any,
    patient: Any,
    receptionist: Any,
    path: str,
    starts_at: str,
):
    token = api_token_issue(username=receptionist.username)[1]
    body = {
        "patient_id": patient.pk,
        "practitioner_id": practitioner.pk,
        "treatment_type_id": bookable.pk,
        "starts_at": starts_at,
    }

    response = client.post(
        path.format(pk=1),
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 422
    assert response.json()["detail"]


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01"])
def test_listing_appointments_through_the_api_answers_an_impossible_range_with_422(
    client: Any, bookable: Any, receptionist: Any, value: str
):
    token = api_token_issue(username=receptionist.username)[1]
    params = {"start": f"{value}T00:00:00+00:00", "end": f"{value}T12:00:00+00:00"}

    response = client.get("/api/appointments", params, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 422


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-23", dt.date(2026, 3, 23)),
        (" 2026-03-23 ", dt.date(2026, 3, 23)),
        ("1900-01-01", dt.date(1900, 1, 1)),
        ("2199-12-31", dt.date(2199, 12, 31)),
    ],
)
def test_a_usable_date_is_read_as_itself(text: str, expected: dt.date):
    assert date_input.parse_day(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9999-12-31", "9999-12-31 is out of range: choose a date between 1 January 1900"),
        ("0001-01-01", "0001-01-01 is out of range: choose a date between 1 January 1900"),
        ("1899-12-31", "1899-12-31 is out of range"),
        ("2200-01-01", "2200-01-01 is out of range"),
        ("2026-02-30", "'2026-02-30' is not a date: write it as YYYY-MM-DD"),
        ("soon", "'soon' is not a date"),
    ],
)
def test_an_unusable_date_is_refused_with_a_message(text: str, message: str):
    with pytest.raises(date_input.DateInputError) as refused:
        date_input.parse_day(text)
    assert refused.value.message.startswith(message)
