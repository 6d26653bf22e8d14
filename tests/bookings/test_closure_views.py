"""Managers' closure and time off pages list the appointments still booked inside them, with
move/cancel per row and a confirmed bulk "cancel and email each patient a new-time link"."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings import services
from bookings.models import Appointment, AppointmentStatus, TimeOff
from clinic.models import ClinicClosure, MessageKind, MessageStatus, OutboundMessage
from tests.builders import MONDAY, local
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

TUESDAY = MONDAY + dt.timedelta(days=1)


def book(patient: Any, practitioner: Any, treatment: Any, hour: int) -> Appointment:
    return services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=treatment,
        starts_at=local(TUESDAY, hour),
    )


@pytest.fixture
def two_booked(bookable, practitioner, patient) -> list[Appointment]:
    no_email = PatientFactory(given_name="Bo", family_name="Lind", email="", phone="+447700900123")
    return [book(patient, practitioner, bookable, 10), book(no_email, practitioner, bookable, 11)]


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_adding_a_closure_over_booked_appointments_lists_them_with_move_and_cancel(
    client, manager, two_booked
):
    client.force_login(manager)
    response = client.post("/availability/closures/", {"date": "2026-03-24", "reason": "Flood"})
    closure = ClinicClosure.objects.get()
    assert response.url == f"/availability/closures/{closure.pk}/"

    page = client.get(response.url).content.decode()
    assert "Still booked (2)" in page
    assert "Zoë Adeyemi" in page
    assert "Bo Lind" in page
    assert "No email: phone +447700900123" in page
    for appointment in two_booked:
        assert f"/appointments/{appointment.pk}/reschedule/" in page
        assert f"/appointments/{appointment.pk}/cancel/" in page
    assert "Cancel these and email each patient a link to pick a new time" in page


def test_a_closure_on_a_past_day_is_refused_on_the_form(client, manager, bookable):
    client.force_login(manager)
    response = client.post("/availability/closures/", {"date": "2026-03-20", "reason": "Oops"})
    assert response.status_code == 200
    assert (
        "Friday 20 March 2026 has passed: a closure can only be added for today or a later day."
        in response.content.decode()
    )
    assert not ClinicClosure.objects.exists()


def test_time_off_that_has_ended_is_refused_on_the_form(client, manager, practitioner, bookable):
    client.force_login(manager)
    response = client.post(
        "/availability/time-off/",
        {"practitioner": practitioner.pk, "first_day": "2026-03-16", "last_day": "2026-03-20"},
    )
    assert "This time off has already ended" in response.content.decode()
    assert not TimeOff.objects.exists()


def test_the_bulk_cancel_asks_are_you_sure_and_changes_nothing_until_confirmed(
    client, manager, two_booked
):
    closure, _ = services.availability.closure_add(
        date=TUESDAY, reason="Flood", tz=local(MONDAY, 0).tzinfo
    )
    client.force_login(manager)
    page = client.get(f"/availability/closures/{closure.pk}/cancel-booked/").content.decode()

    assert (
        "Are you sure? 2 appointments will be cancelled and 1 patient emailed a link to pick a "
        "new time." in page
    )
    assert "Bo Lind: +447700900123" in page  # no email: the desk phones
    assert set(Appointment.objects.values_list("status", flat=True)) == {AppointmentStatus.BOOKED}


def test_confirming_cancels_them_emails_those_with_an_address_and_names_whom_to_phone(
    client, manager, two_booked
):
    closure, _ = services.availability.closure_add(
        date=TUESDAY, reason="Flood", tz=local(MONDAY, 0).tzinfo
    )
    client.force_login(manager)
    response = client.post(
        f"/availability/closures/{closure.pk}/cancel-booked/",
        {"appointment": [appointment.pk for appointment in two_booked]},
    )

    assert response.url == f"/availability/closures/{closure.pk}/"
    assert messages_of(response) == [
        "2 appointment(s) cancelled; 1 patient(s) emailed a link to pick a new time.",
        "No email address, please phone: Bo Lind (+447700900123).",
    ]
    assert set(Appointment.objects.values_list("status", flat=True)) == {
        AppointmentStatus.CANCELLED
    }
    rows = OutboundMessage.objects.filter(kind=MessageKind.CANCELLED_BY_CLINIC)
    assert sorted(rows.values_list("status", flat=True)) == [
        MessageStatus.PENDING,
        MessageStatus.SKIPPED,
    ]
    assert "No appointments are booked here any more." in client.get(response.url).content.decode()


def test_time_off_over_booked_appointments_lists_them_and_cancels_them_on_confirmation(
    client, manager, practitioner, two_booked
):
    client.force_login(manager)
    response = client.post(
        "/availability/time-off/",
        {"practitioner": practitioner.pk, "first_day": "2026-03-24", "last_day": "2026-03-24"},
    )
    entry = TimeOff.objects.get()
    assert response.url == f"/availability/time-off/{entry.pk}/"
    assert messages_of(response)[-1] == (
        "2 appointments are still booked in this time off: they are listed below to move or cancel."
    )
    assert "Still booked (2)" in client.get(response.url).content.decode()

    client.post(
        f"/availability/time-off/{entry.pk}/cancel-booked/",
        {"appointment": [appointment.pk for appointment in two_booked]},
    )
    assert set(Appointment.objects.values_list("cancellation_reason", flat=True)) == {
        "Practitioner not available"
    }


def test_the_pages_are_for_managers_only(client, receptionist, two_booked):
    closure = ClinicClosure.objects.create(date=TUESDAY, reason="Flood")
    client.force_login(receptionist)
    assert client.get(f"/availability/closures/{closure.pk}/").status_code == 403
    response = client.post(
        f"/availability/closures/{closure.pk}/cancel-booked/",
        {"appointment": [appointment.pk for appointment in two_booked]},
    )
    assert response.status_code == 403
    assert not Appointment.objects.filter(status=AppointmentStatus.CANCELLED).exists()


def test_the_affected_list_takes_the_same_number_of_queries_however_long_it_is(
    client, manager, bookable, practitioner, second_practitioner, patient
):
    wednesday = TUESDAY + dt.timedelta(days=1)
    book(patient, practitioner, bookable, 10)
    for hour, who in (
        (10, practitioner),
        (11, second_practitioner),
        (12, practitioner),
        (14, practitioner),
    ):
        services.appointment_book(
            patient=PatientFactory(),
            practitioner=who,
            treatment_type=bookable,
            starts_at=local(wednesday, hour),
        )
    one_booked = ClinicClosure.objects.create(date=TUESDAY, reason="Flood")
    four_booked = ClinicClosure.objects.create(date=wednesday, reason="Flood")
    client.force_login(manager)
    client.get("/availability/")  # the session is loaded once per request either way

    with CaptureQueriesContext(connection) as one:
        page = client.get(f"/availability/closures/{one_booked.pk}/")
    assert "Still booked (1)" in page.content.decode()
    with CaptureQueriesContext(connection) as four:
        page = client.get(f"/availability/closures/{four_booked.pk}/")
    assert "Still booked (4)" in page.content.decode()

    assert len(four) == len(one)
    # Besides the session and the user: the closure, then the appointments with their
    # patient, practitioner and treatment in one query.
    ours = [query["sql"] for query in one.captured_queries if _ours(query["sql"])]
    assert len(ours) == 2
    assert "clinic_clinicclosure" in ours[0]
    assert "bookings_appointment" in ours[1]


def _ours(sql: str) -> bool:
    return not any(word in sql for word in ("django_session", "auth_user", "SAVEPOINT"))
