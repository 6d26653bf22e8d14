"""In the browser: an 80-letter unbroken name stays inside the page at desktop and phone
widths, and signing out lands on the sign-in page saying so."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.factories import PatientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG_NAME = "Wolfeschlegelsteinhausenbergerdorffwelchevoralternwarengewissenhaftschaferswesse"


def _horizontal_overflow(page: Any) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_an_80_letter_name_does_not_overflow_the_patient_pages(
    page: Any, sign_in: Any, manager: Any, width: int, height: int
):
    assert len(LONG_NAME) == 80
    patient = PatientFactory(given_name=LONG_NAME, family_name=LONG_NAME[:40])
    page.set_viewport_size({"width": width, "height": height})
    sign_in("malcolm")

    page.goto(f"/patients/{patient.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(LONG_NAME)
    assert _horizontal_overflow(page) == 0

    page.goto(f"/patients/?q={LONG_NAME[:12]}")
    expect(page.get_by_role("link", name=LONG_NAME[:40]).first).to_be_visible()
    assert _horizontal_overflow(page) == 0

    page.goto("/audit/")
    assert _horizontal_overflow(page) == 0


def test_signing_out_says_so_on_the_sign_in_page(page: Any, sign_in: Any, receptionist: Any):
    sign_in("rosa")

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="You have signed out.")).to_be_visible()


def test_a_sign_out_link_asks_first_then_signs_out(page: Any, sign_in: Any, receptionist: Any):
    sign_in("rosa")

    page.goto("/accounts/logout/")
    expect(page.get_by_role("heading", name="Sign out?")).to_be_visible()
    page.get_by_role("main").get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("alert").filter(has_text="You have signed out.")).to_be_visible()
