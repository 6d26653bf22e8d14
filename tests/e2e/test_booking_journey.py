"""The receptionist's day: due list -> slot search -> day view -> book; a double booking is
refused; then the appointment is moved and cancelled. Headless Chromium against live_server."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.builders import (
    MONDAY,
    crystal_with_room,
    local,
    open_clinic_business_hours,
    series_after_sessions,
    working_week,
)
from tests.factories import PatientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DAY = dt.timedelta(days=1)


@pytest.fixture
def clinic_day(time_machine: Any, practitioner: Any, receptionist: Any, patient: Any) -> Any:
    """Monday 23 March 2026, 08:00: Zoë had sessions 1 and 2 (the last on 7 March), so
    session 3 is due between 21 March and 4 April; Liam is another patient."""
    time_machine.move_to(local(MONDAY, 8), tick=True)
    open_clinic_business_hours()
    crystal = crystal_with_room()
    working_week(practitioner)
    series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=crystal,
        performed=[MONDAY - 37 * DAY, MONDAY - 16 * DAY],
    )
    PatientFactory(given_name="Liam", family_name="Walsh")
    return crystal


def alert(page: Any) -> Any:
    return page.get_by_role("alert")


def test_receptionist_books_a_due_session_is_refused_a_double_booking_then_moves_and_cancels(
    page: Any, sign_in: Any, clinic_day: Any
):
    sign_in("rosa")
    nav = page.get_by_role("navigation", name="Main navigation")

    # 1. The due list shows Zoë, due for session 3.
    nav.get_by_role("link", name="Due list").click()
    group = page.get_by_test_id("due-group-open")
    row = group.get_by_test_id("due-row").filter(has_text="Zoë Adeyemi")
    assert "Session 3 of 6" in row.inner_text()

    # 2. Slot search opens in the series window.
    row.get_by_role("link", name="Book session 3 for Zoë Adeyemi").click()
    assert "Series window for session 3" in page.get_by_test_id("series-window").inner_text()
    assert page.get_by_role("textbox", name="From").input_value() == "2026-03-23"
    assert page.get_by_role("textbox", name="To").input_value() == "2026-04-04"

    # 3. Tuesday in the day view, booking for Zoë: pick Amara's 10:00.
    page.get_by_role("link", name="Open Tuesday 24 March in the calendar").click()
    assert "Booking for Zoë Adeyemi" in page.get_by_test_id("booking-for").inner_text()
    page.get_by_role(
        "link", name="Book Zoë Adeyemi with Amara Okafor on Tuesday 24 March at 10:00"
    ).click()
    assert page.get_by_label("Series session").input_value() != ""
    page.get_by_role("button", name="Book appointment").click()
    assert "Booked Zoë Adeyemi with Amara Okafor on Tuesday 24 March 2026 at 10:00" in (
        alert(page).inner_text()
    )
    assert "Session 3 of 6" in page.get_by_role("main").inner_text()
    appointment_url = page.url

    # 4. Another patient into Amara's same slot: refused, with the reason.
    page.goto("/appointments/new/")
    page.get_by_label("Find the patient").fill("walsh")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Choose Liam Walsh").click()
    page.get_by_label("Treatment").select_option(label="Crystal microdermabrasion")
    page.get_by_label("Practitioner").select_option(label="Amara Okafor")
    page.get_by_label("Date").fill("2026-03-24")
    page.get_by_label("Time").fill("10:15")
    page.get_by_role("button", name="Book appointment").click()
    refusal = page.get_by_test_id("form-error").inner_text()
    assert "Amara Okafor is already booked from 10:00 to 10:40 (including cleanup time)." in (
        refusal
    )
    assert page.get_by_label("Time").input_value() == "10:15"  # nothing typed is lost

    # 5. Zoë's appointment, from the day view: move it to 11:30.
    page.goto("/calendar/")
    page.get_by_label("Go to date").fill("2026-03-24")
    page.get_by_label("Go to date").dispatch_event("change")
    page.wait_for_url(re.compile(r"date=2026-03-24"))
    page.get_by_test_id("appointment-card").filter(has_text="Zoë Adeyemi").click()
    assert page.url == appointment_url
    page.get_by_role("link", name="Reschedule").click()
    page.get_by_label("Time").fill("11:30")
    page.get_by_label("Reason").fill("Patient asked for later")
    page.get_by_role("button", name="Move appointment").click()
    assert "Moved to Tuesday 24 March 2026 at 11:30" in alert(page).inner_text()
    history = page.get_by_test_id("appointment-history").inner_text()
    assert "Rescheduled" in history
    assert "Patient asked for later" in history

    # 6. And cancel it, with a reason.
    page.get_by_role("link", name="Cancel appointment").click()
    page.get_by_label("Reason for cancelling").fill("Patient unwell")
    page.get_by_role("button", name="Cancel appointment").click()
    assert "Appointment cancelled. The time is free again." in alert(page).inner_text()
    assert page.get_by_test_id("status-badge").inner_text() == "Cancelled"
    assert page.get_by_test_id("cancellation-reason").inner_text() == "Patient unwell"


def test_calendar_works_from_the_keyboard(page: Any, sign_in: Any, clinic_day: Any):
    """Arrow keys move between the day view's cells; Enter on a free time opens the booking."""
    sign_in("rosa")
    page.goto("/calendar/?date=2026-03-24")
    ten = page.get_by_role("link", name="Book Amara Okafor on Tuesday 24 March at 10:00")
    ten.focus()

    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        "Book Amara Okafor on Tuesday 24 March at 10:15"
    )
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        "Book Amara Okafor on Tuesday 24 March at 09:45"
    )

    page.keyboard.press("Enter")
    page.wait_for_url(
        re.compile(r"/appointments/new/\?practitioner=\d+&date=2026-03-24&time=09:45")
    )
    expect(page.get_by_label("Find the patient")).to_be_visible()
