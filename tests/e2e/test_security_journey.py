"""In a real browser: the strict CSP breaks nothing, lockout and two-factor pages work."""

from __future__ import annotations

from typing import Any

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.factories import PatientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_pages_run_under_the_strict_policy_without_a_single_violation(
    page: Any, sign_in: Any, manager: Any
):
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    patient = PatientFactory(given_name="Csp", family_name="Walker")
    sign_in("malcolm")
    for url in [
        "/",
        "/patients/",
        f"/patients/{patient.pk}/",
        "/calendar/",
        "/series/",
        "/audit/",
        f"/patients/{patient.pk}/privacy/",
        "/accounts/two-factor/setup/",
        "/api/docs",
    ]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
    assert violations == []
    # The docs page's script ran (it needs no inline code).
    assert page.locator(".swagger-ui").count() == 1


def test_a_locked_out_user_sees_why_and_what_to_do(page: Any, sign_in: Any, receptionist: Any):
    for _ in range(5):
        sign_in("rosa", "not-the-password")
    expect(page.get_by_role("heading", name="Sign-in paused")).to_be_visible()
    assert "paused for 15 minutes" in page.get_by_test_id("lockout-message").inner_text()
    expect(page.get_by_role("link", name="reset it by email")).to_be_visible()


def test_a_practitioner_with_an_authenticator_signs_in_with_a_code(
    page: Any, sign_in: Any, practitioner_user: Any
):
    device = TOTPDevice.objects.create(user=practitioner_user, name="phone", confirmed=True)
    sign_in("amara")
    page.goto("/patients/")
    expect(page.get_by_role("heading", name="Enter your sign-in code")).to_be_visible()
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    page.get_by_label("Six-digit code from your authenticator app").fill(code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/patients/")
