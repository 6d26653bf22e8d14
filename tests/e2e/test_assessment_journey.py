"""The practitioner records an assessment; the receptionist finds the patient and sees only
the badge and its reason."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_out(page: Any) -> None:
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


def test_rosacea_makes_a_patient_not_suitable_and_reception_sees_only_the_badge(
    page: Any,
    sign_in: Any,
    practitioner: Any,
    receptionist: Any,
    patient: Any,
    opted_out_patient: Any,
):
    # The practitioner opens the patient from the list and records an assessment.
    sign_in("amara")
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Patients"
    ).click()
    page.get_by_label("Search patients").fill("zoe ade")
    page.get_by_role("link", name="Adeyemi, Zoë").click()
    page.get_by_role("link", name="Record a skin assessment").click()

    page.get_by_label("II (usually burns, tans minimally)").check()
    page.get_by_label("Normal", exact=True).check()
    page.get_by_label("Dull or rough skin").select_option("mild")
    page.get_by_label("Rosacea").check()
    page.get_by_label("Medications").fill("Metronidazole gel")
    page.get_by_role("button", name="Save and sign").click()

    # Back on the patient page: not suitable, and why.
    page.wait_for_url(re.compile(rf"/patients/{patient.pk}/$"))
    suitability = page.get_by_test_id("suitability-card")
    assert suitability.get_by_test_id("suitability-badge").inner_text() == "Not suitable"
    assert "Rosacea: exfoliation inflames it; do not treat." in suitability.inner_text()
    expect(page.get_by_role("link", name="Skin assessment: Not suitable")).to_be_visible()
    sign_out(page)

    # The receptionist searches as she types and sees the badge in the list ...
    sign_in("rosa")
    page.goto("/patients/")
    assert page.get_by_role("row").count() == 3  # the header, Zoë and Liam
    page.get_by_label("Search patients").press_sequentially("adeyemi", delay=30)
    page.get_by_role("status").filter(has_text="1 patient matches “adeyemi”").wait_for()
    assert page.get_by_role("row").count() == 2
    row = page.get_by_role("row", name=re.compile("Adeyemi, Zoë"))
    assert "Not suitable" in row.get_by_test_id("suitability-badge").inner_text()
    assert "rosacea" not in row.inner_text().lower()  # the outcome, never the medical reason
    # The search is in the address, so reloading or going back keeps it.
    page.wait_for_url(re.compile(r"q=adeyemi"))

    # ... and on the patient page the outcome and what to do, but no reason, no clinical
    # detail and no way into it.
    row.get_by_role("link", name="Adeyemi, Zoë").click()
    card = page.get_by_test_id("suitability-card").inner_text()
    assert "Not suitable: a practitioner must review before booking." in card
    assert "rosacea" not in card.lower()
    timeline = page.get_by_test_id("timeline")
    assert "Skin assessment: Not suitable" in timeline.inner_text()
    assert timeline.get_by_role("link").count() == 0
    assert "Metronidazole" not in page.content()
    assert page.get_by_role("link", name="Record a skin assessment").count() == 0

    response = page.goto(f"/assessments/{patient.assessments.get().pk}/")
    assert response.status == 403
