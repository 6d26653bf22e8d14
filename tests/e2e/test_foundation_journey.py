from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_receptionist_signs_in_and_sees_home_page(page: Any, sign_in: Any, receptionist: Any):
    sign_in("rosa")

    expect(page.get_by_role("heading", name="Good to see you, Rosa")).to_be_visible()
    assert "Receptionist" in page.get_by_test_id("user-menu").inner_text()
    # Receptionists get no Admin or Staff entries in the navigation.
    nav = page.get_by_role("navigation", name="Main navigation")
    assert nav.get_by_role("link", name="Admin").count() == 0
    assert nav.get_by_role("link", name="Staff").count() == 0


def test_wrong_password_shows_a_clear_message(page: Any, sign_in: Any, receptionist: Any):
    sign_in("rosa", "not-the-password")

    refusal = page.get_by_role("alert").filter(has_text="correct username and password")
    expect(refusal).to_be_visible()
