"""A practitioner plans a series, logs and signs session 1, and is refused session 2 too soon."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from playwright.sync_api import expect

from clinic.formats import long_date
from treatments.catalogue import DEFAULT_TREATMENT_TYPES
from treatments.models import TreatmentType

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


def _tomorrow_at_ten() -> dt.datetime:
    """A fixed, unhurried time of day, never in the past (cookies expire by the real clock)."""
    today = dt.datetime.now(tz=_zone()).date()
    return dt.datetime.combine(today + dt.timedelta(days=1), dt.time(10), tzinfo=_zone())


def test_practitioner_plans_logs_signs_and_is_refused_a_second_session_a_week_later(
    page: Any, sign_in: Any, practitioner: Any, patient: Any
) -> None:
    start = _tomorrow_at_ten()
    with time_machine.travel(start, tick=True):
        day_one = start.date()
        _plan_log_and_sign(page, sign_in, practitioner, patient, day_one)

    with time_machine.travel(start + dt.timedelta(days=7), tick=True):
        # A week later the sign-in has long expired: the practitioner signs in again.
        sign_in("amara")
        page.goto(f"/patients/{patient.pk}/")
        page.get_by_role("link", name="Crystal microdermabrasion series").click()
        page.get_by_role("link", name="Log session 2").click()
        assert page.get_by_label("Date").input_value() == str(day_one + dt.timedelta(days=7))
        page.get_by_role("button", name="Save the session").click()

        earliest = long_date(day_one + dt.timedelta(days=14))
        error = page.get_by_text(f"the next session can be booked from {earliest}")
        expect(error).to_be_visible()
        expect(page.get_by_text("The session is not saved yet")).to_be_visible()
        assert page.get_by_label("Passes").input_value() == "2"


def _plan_log_and_sign(
    page: Any, sign_in: Any, practitioner: Any, patient: Any, day_one: dt.date
) -> None:
    from tests.builders import assess

    for entry in DEFAULT_TREATMENT_TYPES:
        TreatmentType.objects.get_or_create(name=entry["name"], defaults=entry)
    assess(patient, by=practitioner.user, assessed_on=day_one)

    sign_in("amara")
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Plan a treatment series").click()
    assert page.get_by_test_id("screening-advice").inner_text().startswith("Suitable")
    page.get_by_label("Treatment").select_option(label="Crystal microdermabrasion")
    assert page.get_by_label("Planned number of sessions").input_value() == "6"
    page.get_by_role("button", name="Plan the series").click()

    planned = page.get_by_text("6-session series of Crystal microdermabrasion planned")
    expect(planned).to_be_visible()
    assert page.get_by_test_id("series-progress").inner_text() == "Session 0 of 6"

    page.get_by_role("link", name="Log session 1").click()
    page.get_by_label("Intensity level").fill("4")
    page.get_by_label("Vacuum / pressure level").fill("5")
    page.get_by_label("Crystal flow").fill("3")
    page.get_by_label("Passes").fill("2")
    page.get_by_label("Mild", exact=True).check()
    page.get_by_label("Your additions to the aftercare note").fill(
        "Use the fragrance-free moisturiser from today."
    )
    page.get_by_role("button", name="Save the session").click()
    expect(page.get_by_text("Session 1 saved.")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Sign and lock").click()

    note = page.get_by_test_id("aftercare-note")
    expect(page.get_by_text("Session 1 signed and locked.")).to_be_visible()
    assert "broad-spectrum sunscreen" in note.inner_text()
    assert "Use the fragrance-free moisturiser from today." in note.inner_text()
    earliest = long_date(day_one + dt.timedelta(days=14))
    latest = long_date(day_one + dt.timedelta(days=28))
    assert f"Session 2 can be from {earliest} to {latest}." in note.inner_text()

    page.get_by_role("link", name="Back to the series").click()
    assert page.get_by_test_id("series-progress").inner_text() == "Session 1 of 6"
    assert page.get_by_test_id("window-earliest").inner_text() == earliest
    assert page.get_by_test_id("window-latest").inner_text() == latest
