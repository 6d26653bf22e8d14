"""Leak 3 in the browser: cards sit at their start time, overlapping ones side by side."""

from __future__ import annotations

from typing import Any

import pytest

from bookings import services
from bookings.models import Appointment
from tests.builders import (
    MONDAY,
    crystal_with_room,
    local,
    open_clinic_business_hours,
    working_week,
)
from tests.factories import PatientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def busy_morning(time_machine: Any, practitioner: Any, receptionist: Any, patient: Any) -> Any:
    """Monday 23 March 2026. Zoë's 10:00 treatment was completed at 10:10 and Liam was booked
    into the freed time at 10:15; Noah's 14:00 appointment was moved to 14:07 before the
    quarter-hour grid was enforced."""
    time_machine.move_to(local(MONDAY, 8), tick=True)
    open_clinic_business_hours()
    crystal = crystal_with_room()
    working_week(practitioner)
    zoe = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=crystal,
        starts_at=local(MONDAY, 10),
    )
    services.appointment_complete(
        appointment=zoe, completed_by=practitioner.user, now=local(MONDAY, 10, 10)
    )
    services.appointment_book(
        patient=PatientFactory(given_name="Liam", family_name="Walsh"),
        practitioner=practitioner,
        treatment_type=crystal,
        starts_at=local(MONDAY, 10, 15),
    )
    noah = services.appointment_book(
        patient=PatientFactory(given_name="Noah", family_name="Patel"),
        practitioner=practitioner,
        treatment_type=crystal,
        starts_at=local(MONDAY, 14),
    )
    Appointment.objects.filter(pk=noah.pk).update(
        starts_at=local(MONDAY, 14, 7),
        ends_at=local(MONDAY, 14, 37),
        blocked_until=local(MONDAY, 14, 47),
    )


def _box(page: Any, locator: Any) -> dict[str, float]:
    """Viewport coordinates; nothing scrolls between two measurements."""
    box = locator.bounding_box()
    assert box is not None
    return box


def _row_top(page: Any, label: str) -> float:
    return _box(page, page.locator("th.cal-time", has_text=label))["y"]


def test_overlapping_cards_sit_side_by_side_and_every_card_at_its_start_time(
    page: Any, sign_in: Any, busy_morning: Any
):
    sign_in("rosa")
    page.goto("/calendar/?date=2026-03-23")
    # The whole day on one unscrolled page, so every box is measured from the same origin.
    page.set_viewport_size({"width": 1280, "height": 3000})
    page.locator(".cal-wrap").evaluate("element => { element.style.maxHeight = 'none'; }")
    zoe = _box(page, page.get_by_test_id("appointment-card").filter(has_text="Zoë Adeyemi"))
    liam = _box(page, page.get_by_test_id("appointment-card").filter(has_text="Liam Walsh"))
    noah = _box(page, page.get_by_test_id("appointment-card").filter(has_text="Noah Patel"))
    row_height = _row_top(page, "10:15") - _row_top(page, "10:00")

    overlap_x = min(zoe["x"] + zoe["width"], liam["x"] + liam["width"]) - max(zoe["x"], liam["x"])
    overlap_y = min(zoe["y"] + zoe["height"], liam["y"] + liam["height"]) - max(zoe["y"], liam["y"])
    assert overlap_x <= 0 or overlap_y <= 0, (zoe, liam)
    assert row_height > 10
    assert abs(zoe["y"] - _row_top(page, "10:00")) <= 3
    assert abs(liam["y"] - _row_top(page, "10:15")) <= 3
    assert abs(noah["y"] - (_row_top(page, "14:00") + 7 / 15 * row_height)) <= 3
    # Thirty minutes tall: two rows.
    assert abs(liam["height"] - 2 * row_height) <= 4
