"""Leak 1: the minimum interval between sessions of one treatment holds on every booking path,
whether the booking is in the patient's series, another series or none."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from bookings import services
from bookings.models import Appointment, AppointmentStatus
from bookings.services.appointments import PlannedSession, SeriesPlanError
from bookings.services.tokens import api_token_issue
from tests.builders import MONDAY, local, series_after_sessions

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
EIGHT_DAYS_LATER = local(MONDAY + 8 * DAY, 10)  # Tuesday 31 March
EARLIEST = dt.date(2026, 4, 6)  # 14 days after session 1 on Monday 23 March


@pytest.fixture
def series_started_today(bookable: Any, patient: Any, practitioner: Any) -> Any:
    """Microdermabrasion series, session 1 done this morning."""
    return series_after_sessions(
        patient=patient, practitioner=practitioner, treatment_type=bookable, performed=[MONDAY]
    )


def book(patient: Any, practitioner: Any, treatment_type: Any, starts_at: Any, **extra: Any):
    return services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=treatment_type,
        starts_at=starts_at,
        **extra,
    )


def test_one_off_booking_8_days_after_a_series_session_is_refused_with_the_earliest_date(
    series_started_today, patient, practitioner, bookable
):
    with pytest.raises(services.SpacingViolation) as refused:
        book(patient, practitioner, bookable, EIGHT_DAYS_LATER)

    assert refused.value.earliest == EARLIEST
    assert "Monday 6 April 2026" in refused.value.message
    assert "8 days after" in refused.value.message
    assert not Appointment.objects.exists()


def test_one_off_booking_from_the_earliest_date_is_accepted(
    series_started_today, patient, practitioner, bookable
):
    appointment = book(patient, practitioner, bookable, local(EARLIEST, 10))
    assert appointment.series is None
    assert appointment.spacing_override_reason == ""


def test_one_off_booking_too_close_is_accepted_with_a_practitioners_recorded_reason(
    series_started_today, patient, practitioner, practitioner_user, bookable
):
    appointment = book(
        patient,
        practitioner,
        bookable,
        EIGHT_DAYS_LATER,
        booked_by=practitioner_user,
        spacing_override_reason="Skin tolerated it well; event on 2 April",
    )
    assert appointment.spacing_override_reason == "Skin tolerated it well; event on 2 April"
    assert appointment.override_by == practitioner_user


def test_a_receptionists_override_reason_is_not_enough_for_a_one_off(
    series_started_today, patient, practitioner, receptionist, bookable
):
    with pytest.raises(services.OverrideNotAllowed):
        book(
            patient,
            practitioner,
            bookable,
            EIGHT_DAYS_LATER,
            booked_by=receptionist,
            spacing_override_reason="Patient asked",
        )


def test_a_series_session_too_close_to_a_one_off_of_the_same_treatment_is_refused(
    bookable, patient, practitioner
):
    planned = series_after_sessions(
        patient=patient, practitioner=practitioner, treatment_type=bookable, performed=[]
    )
    book(patient, practitioner, bookable, local(MONDAY + DAY, 10))

    with pytest.raises(services.SpacingViolation) as refused:
        book(patient, practitioner, bookable, local(MONDAY + 3 * DAY, 10), series=planned)

    assert refused.value.earliest == MONDAY + 15 * DAY


def test_a_later_booked_session_also_counts_and_the_message_offers_days_before_it(
    bookable, patient, practitioner
):
    book(patient, practitioner, bookable, local(MONDAY + 17 * DAY, 10))  # Thursday 9 April

    with pytest.raises(services.SpacingViolation) as refused:
        book(patient, practitioner, bookable, local(MONDAY + 10 * DAY, 10))

    assert refused.value.earliest == MONDAY + 31 * DAY
    assert refused.value.latest == MONDAY + 3 * DAY
    assert "7 days before" in refused.value.message


def test_a_cancelled_appointment_does_not_count(bookable, patient, practitioner):
    first = book(patient, practitioner, bookable, local(MONDAY + DAY, 10))
    services.appointment_cancel(appointment=first, reason="Patient unwell")

    assert book(patient, practitioner, bookable, local(MONDAY + 3 * DAY, 10)).pk


def test_moving_a_one_off_next_to_a_series_session_is_refused(
    series_started_today, patient, practitioner, bookable
):
    one_off = book(patient, practitioner, bookable, local(EARLIEST + 7 * DAY, 10))

    with pytest.raises(services.SpacingViolation) as refused:
        services.appointment_reschedule(appointment=one_off, starts_at=EIGHT_DAYS_LATER)

    assert refused.value.earliest == EARLIEST
    one_off.refresh_from_db()
    assert one_off.starts_at == local(EARLIEST + 7 * DAY, 10)


def test_a_patients_self_service_move_is_refused_too_close_to_another_session(
    series_started_today, patient, practitioner, bookable
):
    one_off = book(patient, practitioner, bookable, local(EARLIEST + 7 * DAY, 10))

    # The patient's links book and move with nobody signed in (changed_by=None).
    with pytest.raises(services.SpacingViolation):
        services.appointment_reschedule(
            appointment=one_off, starts_at=EIGHT_DAYS_LATER, changed_by=None
        )


def test_moving_an_appointment_ignores_its_own_old_day(bookable, patient, practitioner):
    one_off = book(patient, practitioner, bookable, local(MONDAY + DAY, 10))

    moved = services.appointment_reschedule(
        appointment=one_off, starts_at=local(MONDAY + 3 * DAY, 10)
    )

    assert moved.starts_at == local(MONDAY + 3 * DAY, 10)


def test_booking_the_rest_of_a_series_is_refused_next_to_a_one_off(
    bookable, patient, practitioner, receptionist
):
    planned = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[],
        planned=2,
    )
    book(patient, practitioner, bookable, local(MONDAY + 2 * DAY, 10))

    with pytest.raises(SeriesPlanError) as refused:
        services.series_book_remaining(
            series=planned,
            plan=[
                PlannedSession(starts_at=local(MONDAY + 3 * DAY, 10), practitioner=practitioner),
                PlannedSession(starts_at=local(MONDAY + 24 * DAY, 10), practitioner=practitioner),
            ],
            booked_by=receptionist,
        )

    assert refused.value.index == 0
    assert "only 1 day after" in refused.value.message
    assert Appointment.objects.filter(series=planned).count() == 0
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1


# ---------------------------------------------------------------------------------------------
# The staff form and the API
# ---------------------------------------------------------------------------------------------


def one_off_post(patient: Any, practitioner: Any, treatment_type: Any) -> dict:
    return {
        "patient": patient.pk,
        "treatment_type": treatment_type.pk,
        "series": "",
        "practitioner": practitioner.pk,
        "date": EIGHT_DAYS_LATER.date().isoformat(),
        "time": "10:00",
    }


def test_the_booking_form_refuses_a_one_off_too_close_and_offers_the_open_series(
    client, series_started_today, patient, practitioner, bookable, receptionist
):
    client.force_login(receptionist)

    response = client.post("/appointments/new/", one_off_post(patient, practitioner, bookable))

    html = response.content.decode()
    assert response.status_code == 200
    assert "It can be booked from Monday 6 April 2026" in html
    assert "Book as session 2 of the series" in html
    assert f"series={series_started_today.pk}" in html
    assert not Appointment.objects.exists()


def test_the_api_refuses_a_one_off_too_close_with_409_and_the_earliest_date(
    client, series_started_today, patient, practitioner, bookable, receptionist
):
    token = api_token_issue(username=receptionist.username)[1]
    body = {
        "patient_id": patient.pk,
        "practitioner_id": practitioner.pk,
        "treatment_type_id": bookable.pk,
        "starts_at": EIGHT_DAYS_LATER.isoformat(),
    }

    response = client.post(
        "/api/appointments",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 409
    assert response.json()["earliest"] == EARLIEST.isoformat()
    assert not Appointment.objects.exists()
