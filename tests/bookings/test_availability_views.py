"""Managers edit availability in the app: hours, closures, working weeks, time off, rooms,
booking settings and API tokens. Everyone else gets a 403."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command

from bookings import services
from bookings.models import ApiToken, BookingSettings, TimeOff, WorkingHours
from bookings.services.tokens import api_token_authenticate, hash_token
from clinic.models import ClinicClosure, OpeningHours, Room
from tests.builders import MONDAY, local, open_clinic_business_hours

pytestmark = pytest.mark.django_db

PAGES = [
    "/availability/",
    "/availability/opening-hours/",
    "/availability/closures/",
    "/availability/time-off/",
    "/availability/rooms/",
    "/availability/rooms/new/",
    "/availability/booking-settings/",
    "/availability/api-tokens/",
]


@pytest.mark.parametrize("url", PAGES)
def test_availability_pages_are_for_managers_only(client, bookable, receptionist, manager, url):
    client.force_login(receptionist)
    assert client.get(url).status_code == 403
    client.force_login(manager)
    assert client.get(url).status_code == 200


def hours_post(rows: list[tuple[int, str, str]], *, initial: int = 0) -> dict:
    data = {"hours-TOTAL_FORMS": str(len(rows)), "hours-INITIAL_FORMS": str(initial)}
    for index, (weekday, opens, closes) in enumerate(rows):
        data[f"hours-{index}-weekday"] = str(weekday)
        data[f"hours-{index}-opens_at"] = opens
        data[f"hours-{index}-closes_at"] = closes
    return data


def test_manager_replaces_opening_hours_including_a_lunch_closure(client, manager):
    client.force_login(manager)
    response = client.post(
        "/availability/opening-hours/",
        hours_post([(0, "08:00", "12:00"), (0, "13:00", "18:00"), (5, "09:00", "13:00")]),
    )
    assert response.status_code == 302
    assert list(OpeningHours.objects.values_list("weekday", "opens_at", "closes_at")) == [
        (0, dt.time(8), dt.time(12)),
        (0, dt.time(13), dt.time(18)),
        (5, dt.time(9), dt.time(13)),
    ]


def test_opening_hours_that_close_before_they_open_or_overlap_are_refused(client, manager):
    client.force_login(manager)
    backwards = client.post("/availability/opening-hours/", hours_post([(1, "18:00", "09:00")]))
    assert "Closing time must be after opening time." in backwards.content.decode()
    overlapping = client.post(
        "/availability/opening-hours/", hours_post([(1, "09:00", "13:00"), (1, "12:00", "18:00")])
    )
    assert "Overlaps other hours on Tuesday." in overlapping.content.decode()
    assert not OpeningHours.objects.exists()


def week_post(days: dict[int, tuple[str, str, str, str]]) -> dict:
    data = {"day-TOTAL_FORMS": "7", "day-INITIAL_FORMS": "7"}
    for weekday in range(7):
        data[f"day-{weekday}-weekday"] = str(weekday)
        if weekday in days:
            starts, ends, break_from, break_to = days[weekday]
            data[f"day-{weekday}-works"] = "on"
            data[f"day-{weekday}-starts_at"] = starts
            data[f"day-{weekday}-ends_at"] = ends
            data[f"day-{weekday}-break_starts_at"] = break_from
            data[f"day-{weekday}-break_ends_at"] = break_to
    return data


def test_manager_sets_a_practitioners_week_with_a_break(client, manager, practitioner):
    open_clinic_business_hours()
    client.force_login(manager)
    response = client.post(
        f"/availability/working-hours/{practitioner.pk}/",
        week_post({0: ("09:00", "17:00", "12:30", "13:00"), 2: ("10:00", "16:00", "", "")}),
    )
    assert response.status_code == 302
    rows = WorkingHours.objects.filter(practitioner=practitioner).order_by("weekday")
    assert [(row.weekday, row.starts_at, row.break_starts_at) for row in rows] == [
        (0, dt.time(9), dt.time(12, 30)),
        (2, dt.time(10), None),
    ]


def test_a_break_outside_the_working_day_is_refused(client, manager, practitioner):
    open_clinic_business_hours()
    client.force_login(manager)
    response = client.post(
        f"/availability/working-hours/{practitioner.pk}/",
        week_post({0: ("09:00", "12:00", "12:30", "13:00")}),
    )
    assert "The break must lie inside the working hours." in response.content.decode()
    assert not WorkingHours.objects.exists()


def test_closing_a_day_warns_about_appointments_already_booked(
    client, manager, bookable, practitioner, patient
):
    services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    client.force_login(manager)
    response = client.post(
        "/availability/closures/", {"date": "2026-03-23", "reason": "Burst pipe"}
    )
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert messages == [
        "The clinic is closed on Monday 23 March 2026.",
        "1 appointment is still booked that day: it is listed below to move or cancel.",
    ]
    closure = ClinicClosure.objects.get()
    assert closure.reason == "Burst pipe"
    assert response.url == f"/availability/closures/{closure.pk}/"


def test_closing_the_same_day_twice_is_a_form_error(client, manager, bookable):
    ClinicClosure.objects.create(date=dt.date(2026, 12, 25), reason="Christmas")
    client.force_login(manager)
    response = client.post("/availability/closures/", {"date": "2026-12-25", "reason": "Again"})
    assert "The clinic is already closed on that day." in response.content.decode()


def test_time_off_for_whole_days_covers_them_to_midnight(client, manager, practitioner, bookable):
    client.force_login(manager)
    response = client.post(
        "/availability/time-off/",
        {
            "practitioner": practitioner.pk,
            "first_day": "2026-04-01",
            "last_day": "2026-04-02",
            "reason": "Conference",
        },
    )
    assert response.status_code == 302
    entry = TimeOff.objects.get()
    assert entry.starts_at == local(dt.date(2026, 4, 1), 0)
    assert entry.ends_at == local(dt.date(2026, 4, 3), 0)


def test_time_off_ending_before_it_starts_is_refused(client, manager, practitioner):
    client.force_login(manager)
    response = client.post(
        "/availability/time-off/",
        {
            "practitioner": practitioner.pk,
            "first_day": "2026-04-02",
            "first_time": "14:00",
            "last_day": "2026-04-02",
            "last_time": "10:00",
        },
    )
    assert "Time off must end after it starts." in response.content.decode()


def test_manager_creates_a_room_and_chooses_what_it_hosts(client, manager, bookable):
    client.force_login(manager)
    response = client.post(
        "/availability/rooms/new/",
        {"name": "Room 4", "is_active": "on", "treatment_types": [bookable.pk]},
    )
    assert response.status_code == 302
    assert list(Room.objects.get(name="Room 4").treatment_types.all()) == [bookable]


def test_manager_changes_minimum_notice(client, manager):
    client.force_login(manager)
    client.post(
        "/availability/booking-settings/", {"minimum_notice_minutes": "120", "horizon_days": "90"}
    )
    assert BookingSettings.load().minimum_notice_minutes == 120
    assert BookingSettings.load().horizon_days == 90


def test_booking_settings_refuse_a_zero_horizon(client, manager):
    client.force_login(manager)
    response = client.post(
        "/availability/booking-settings/", {"minimum_notice_minutes": "30", "horizon_days": "0"}
    )
    assert "greater than or equal to 1" in response.content.decode()


def test_manager_issues_a_token_shown_once_and_stored_hashed(client, manager, receptionist):
    client.force_login(manager)
    response = client.post(
        "/availability/api-tokens/", {"username": "rosa", "name": "Clinic website"}
    )
    token = response.context["issued"]["token"]
    row = ApiToken.objects.get()
    assert token in response.content.decode()
    assert row.token_hash == hash_token(token)
    assert token not in row.token_hash
    assert row.prefix == token[:8]
    assert token not in client.get("/availability/api-tokens/").content.decode()


def test_a_revoked_token_stops_working(client, manager, receptionist):
    row, token = services.tokens.api_token_issue(username="rosa")
    assert api_token_authenticate(token) == receptionist
    client.force_login(manager)
    client.post(f"/availability/api-tokens/{row.pk}/revoke/")
    assert api_token_authenticate(token) is None


def test_issue_api_token_prints_the_token_as_its_last_line(receptionist):
    out = StringIO()
    call_command("issue_api_token", "rosa", "--name", "Website", stdout=out, stderr=StringIO())
    token = out.getvalue().strip().splitlines()[-1]
    assert api_token_authenticate(token) == receptionist
    assert ApiToken.objects.get().name == "Website"


def test_issue_api_token_refuses_unknown_users_and_users_without_a_role(db):
    from tests.factories import UserFactory

    with pytest.raises(CommandError, match="There is no user called 'nobody'"):
        call_command("issue_api_token", "nobody", stdout=StringIO(), stderr=StringIO())
    UserFactory(username="norole")
    with pytest.raises(CommandError, match="has no staff role"):
        call_command("issue_api_token", "norole", stdout=StringIO(), stderr=StringIO())
