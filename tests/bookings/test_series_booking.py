"""Series-aware booking: windows, overdue flags, neighbours, overrides, booking the rest."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bookings import selectors, services
from bookings.models import Appointment, AppointmentStatus
from tests.builders import MONDAY, assess, local, series_after_sessions

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture
def series(bookable: Any, patient: Any, practitioner: Any) -> Any:
    """Sessions 1 and 2 done; session 2 on Monday 9 March, so session 3 is due 23 March-6 April."""
    return series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 35 * DAY, MONDAY - 14 * DAY],
    )


def book_session(series: Any, practitioner: Any, starts_at: Any, **extra: Any) -> Any:
    return services.appointment_book(
        patient=series.patient,
        practitioner=practitioner,
        treatment_type=series.treatment_type,
        starts_at=starts_at,
        series=series,
        **extra,
    )


def test_books_the_next_session_number_inside_the_window(series, practitioner):
    appointment = book_session(series, practitioner, local(MONDAY + DAY, 10))
    assert appointment.series_session_number == 3
    assert appointment.overdue is False


def test_refuses_a_series_session_before_its_window_with_the_earliest_date(
    bookable, patient, practitioner
):
    recent = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 7 * DAY],
    )
    with pytest.raises(services.SpacingViolation) as refused:
        book_session(recent, practitioner, local(MONDAY + DAY, 10))
    assert refused.value.earliest == dt.date(2026, 3, 30)
    assert "can be booked from Monday 30 March 2026" in refused.value.message
    assert not Appointment.objects.exists()


def test_books_after_the_window_and_flags_it_overdue(bookable, patient, practitioner):
    late = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 30 * DAY],
    )
    appointment = book_session(late, practitioner, local(MONDAY + DAY, 10))
    assert appointment.overdue is True


def test_practitioner_can_override_the_minimum_with_a_recorded_reason(
    bookable, patient, practitioner, practitioner_user
):
    recent = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 12 * DAY],
    )
    appointment = book_session(
        recent,
        practitioner,
        local(MONDAY + DAY, 10),
        booked_by=practitioner_user,
        spacing_override_reason="Patient travelling for a month; light pass only",
    )
    assert appointment.spacing_override_reason.startswith("Patient travelling")
    assert appointment.override_by == practitioner_user


def test_receptionist_cannot_override_the_minimum(bookable, patient, practitioner, receptionist):
    recent = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 12 * DAY],
    )
    with pytest.raises(services.OverrideNotAllowed, match="Only a practitioner"):
        book_session(
            recent,
            practitioner,
            local(MONDAY + DAY, 10),
            booked_by=receptionist,
            spacing_override_reason="Patient asked",
        )


def test_refuses_booking_past_the_planned_sessions(bookable, patient, practitioner):
    # Session 1 done, session 2 booked: the plan of two is full, though the series is open.
    full = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 14 * DAY],
        planned=2,
    )
    book_session(full, practitioner, local(MONDAY + DAY, 10))
    with pytest.raises(services.SeriesFull) as refused:
        book_session(full, practitioner, local(MONDAY + 22 * DAY, 10))
    assert refused.value.message == (
        "All 2 planned sessions of this series are already booked or done."
    )


def test_a_series_of_another_treatment_is_refused(series, practitioner):
    from tests.builders import treatment_type

    diamond = treatment_type("Diamond-tip microdermabrasion")
    with pytest.raises(services.BookingError, match="series is for Crystal"):
        services.appointment_book(
            patient=series.patient,
            practitioner=practitioner,
            treatment_type=diamond,
            starts_at=local(MONDAY + DAY, 10),
            series=series,
        )


def test_a_suitability_override_recorded_on_the_series_covers_its_sessions(
    bookable, patient, practitioner, practitioner_user, receptionist
):
    assess(patient, by=practitioner_user, contraindications={"eczema"})
    overridden = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 20 * DAY],
        override_reason="Eczema only on the hands; face clear",
    )
    appointment = book_session(
        overridden, practitioner, local(MONDAY + DAY, 10), booked_by=receptionist
    )
    assert appointment.series_session_number == 2


def test_moving_a_session_rechecks_the_next_booked_session(series, practitioner):
    third = book_session(series, practitioner, local(MONDAY + DAY, 10))
    book_session(series, practitioner, local(MONDAY + 22 * DAY, 10))  # session 4, 14 April

    with pytest.raises(services.SpacingViolation) as refused:
        services.appointment_reschedule(appointment=third, starts_at=local(MONDAY + 10 * DAY, 10))

    assert "only 12 days before the next session on 14 April 2026" in refused.value.message
    assert "It can move to any day from Monday 23 March 2026 to Tuesday 31 March 2026" in (
        refused.value.message
    )
    third.refresh_from_db()
    assert third.starts_at == local(MONDAY + DAY, 10)


def test_moving_a_session_later_past_its_window_flags_it_overdue(series, practitioner):
    third = book_session(series, practitioner, local(MONDAY + DAY, 10))
    moved = services.appointment_reschedule(
        appointment=third, starts_at=local(MONDAY + 16 * DAY, 10)
    )
    assert moved.overdue is True


def test_a_cancelled_session_frees_its_number(series, practitioner):
    third = book_session(series, practitioner, local(MONDAY + DAY, 10))
    services.appointment_cancel(appointment=third, reason="Patient ill")
    again = book_session(series, practitioner, local(MONDAY + 2 * DAY, 10))
    assert again.series_session_number == 3


# ---------------------------------------------------------------------------------------------
# Booking the rest of a series
# ---------------------------------------------------------------------------------------------


def test_proposes_a_slot_inside_each_remaining_window_with_the_same_practitioner(
    series, practitioner
):
    plan = selectors.series_proposals(series, now=local(MONDAY, 8))

    assert [proposal.number for proposal in plan.proposals] == [3, 4, 5, 6]
    previous = MONDAY - 14 * DAY
    for proposal in plan.proposals:
        option = proposal.option
        assert option is not None
        day = option.local_start.date()
        assert proposal.window.earliest <= day <= proposal.window.latest
        assert (day - previous).days >= 14
        assert option.practitioner == practitioner
        assert option.local_start.time() == dt.time(10)  # the usual time (sessions at 10:00)
        previous = day


def test_books_every_remaining_session_at_once(series, practitioner, receptionist):
    plan = selectors.series_proposals(series, now=local(MONDAY, 8))
    booked = services.series_book_remaining(
        series=series,
        plan=[
            services.PlannedSession(
                starts_at=proposal.option.starts_at, practitioner=proposal.option.practitioner
            )
            for proposal in plan.proposals
        ],
        booked_by=receptionist,
    )
    assert [appointment.series_session_number for appointment in booked] == [3, 4, 5, 6]
    assert all(appointment.status == AppointmentStatus.BOOKED for appointment in booked)


def test_booking_the_rest_is_all_or_nothing(series, practitioner, receptionist):
    plan = selectors.series_proposals(series, now=local(MONDAY, 8))
    rows = [
        services.PlannedSession(
            starts_at=proposal.option.starts_at, practitioner=proposal.option.practitioner
        )
        for proposal in plan.proposals
    ]
    # The last session moved to only a week after the one before it.
    rows[-1] = services.PlannedSession(
        starts_at=rows[-2].starts_at + 7 * DAY, practitioner=practitioner
    )

    with pytest.raises(services.BookingError) as refused:
        services.series_book_remaining(series=series, plan=rows, booked_by=receptionist)

    assert refused.value.index == 3
    assert "Nothing was booked." in refused.value.message
    assert "Too soon" in refused.value.message
    assert not Appointment.objects.exists()
