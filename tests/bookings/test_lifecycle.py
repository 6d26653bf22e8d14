"""The appointment lifecycle: one transition table, the same answer on every path."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bookings import services
from bookings.choices import AppointmentStatus
from bookings.rules import STATUS_ACTIONS, TRANSITIONS, InvalidTransition, allowed_actions
from clinic.errors import NotAllowed
from tests.builders import MONDAY, local

LONDON = ZoneInfo("Europe/London")
STARTS = dt.datetime(2026, 3, 23, 10, 0, tzinfo=LONDON)
BEFORE = STARTS - dt.timedelta(hours=2)  # the same day, not started
AFTER = STARTS + dt.timedelta(minutes=35)
YESTERDAY = STARTS - dt.timedelta(days=1)
LATE_NEXT_DAY = STARTS + dt.timedelta(days=1)

DESK = frozenset({"receptionist"})
CLINICIAN = frozenset({"practitioner"})
MANAGER = frozenset({"manager"})
PATIENT_LINK = None


@pytest.mark.parametrize(
    ("status", "now", "roles", "actions"),
    [
        ("booked", YESTERDAY, DESK, {"confirm", "move", "cancel"}),
        ("booked", BEFORE, DESK, {"confirm", "check_in", "move", "cancel"}),
        ("booked", AFTER, DESK, {"confirm", "check_in", "no_show", "move", "cancel"}),
        (
            "booked",
            AFTER,
            CLINICIAN,
            {"confirm", "check_in", "no_show", "complete", "move", "cancel"},
        ),
        ("booked", LATE_NEXT_DAY, DESK, {"confirm", "no_show", "move", "cancel"}),
        ("confirmed", BEFORE, DESK, {"check_in", "move", "cancel"}),
        ("confirmed", AFTER, MANAGER, {"check_in", "no_show", "complete", "move", "cancel"}),
        ("checked_in", BEFORE, CLINICIAN, {"cancel"}),
        ("checked_in", AFTER, DESK, {"cancel"}),
        ("checked_in", AFTER, CLINICIAN, {"complete", "cancel"}),
        ("completed", AFTER, CLINICIAN, set()),
        ("cancelled", BEFORE, MANAGER, set()),
        ("no_show", AFTER, CLINICIAN, set()),
        ("booked", BEFORE, PATIENT_LINK, {"confirm", "check_in", "move", "cancel"}),
        ("checked_in", AFTER, PATIENT_LINK, {"cancel"}),
    ],
)
def test_the_transition_table_says_what_each_user_may_do_now(status, now, roles, actions):
    allowed = allowed_actions(status=status, starts_at=STARTS, now=now, tz=LONDON, roles=roles)
    assert {transition.action for transition in allowed} == actions


def test_every_status_the_api_can_ask_for_has_one_action_in_the_table():
    assert dict(STATUS_ACTIONS) == {
        "confirmed": "confirm",
        "checked_in": "check_in",
        "no_show": "no_show",
        "completed": "complete",
        "cancelled": "cancel",
    }
    assert {transition.target for transition in TRANSITIONS.values()} <= set(AppointmentStatus)
    for transition in TRANSITIONS.values():
        assert set(transition.sources) <= set(AppointmentStatus)


@pytest.mark.django_db
def test_the_booking_service_refuses_a_receptionist_who_completes_an_appointment(
    bookable, practitioner, patient, receptionist, time_machine
):
    appointment = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    time_machine.move_to(local(MONDAY, 10, 35), tick=False)

    with pytest.raises(NotAllowed, match="Your role does not allow completing appointments"):
        services.appointment_complete(appointment=appointment, completed_by=receptionist)
    with pytest.raises(NotAllowed):
        services.appointment_set_status(
            appointment=appointment, status="completed", changed_by=receptionist
        )
    with pytest.raises(NotAllowed):
        services.appointment_complete(appointment=appointment, completed_by=None)

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


@pytest.mark.django_db
def test_a_second_click_on_an_action_already_done_changes_nothing(
    bookable, practitioner, patient, receptionist
):
    appointment = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    services.appointment_confirm(appointment=appointment, confirmed_by=receptionist)
    again = services.appointment_confirm(appointment=appointment, confirmed_by=receptionist)

    assert again.status == AppointmentStatus.CONFIRMED
    assert appointment.changes.count() == 2  # booked, confirmed: no second entry
    services.appointment_cancel(appointment=appointment, reason="Ill", cancelled_by=receptionist)
    with pytest.raises(InvalidTransition, match="cancelled: it cannot be marked no-show"):
        services.appointment_mark_no_show(appointment=appointment, marked_by=receptionist)
