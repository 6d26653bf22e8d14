"""Optional TOTP two-factor sign-in, mandatory for clinical roles when the setting says so."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import AuditAction, AuditEntry
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _sign_in(client: Client, username: str) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": TEST_PASSWORD})


def _enrolled(user: Any) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_without_a_device_and_not_required_the_password_is_enough(
    client: Client, practitioner_user: Any
):
    _sign_in(client, "amara")
    assert client.get("/").status_code == 200


def test_a_user_with_a_device_must_enter_a_code_before_any_page(
    client: Client, practitioner_user: Any
):
    device = _enrolled(practitioner_user)
    response = _sign_in(client, "amara")
    assert response.status_code == 302

    page = client.get("/staff/")
    assert page.status_code == 302
    assert page["Location"] == "/accounts/two-factor/?next=%2Fstaff%2F"

    response = client.post("/accounts/two-factor/", {"token": _code(device), "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_code_works_only_once(practitioner_user: Any):
    device = _enrolled(practitioner_user)
    with time_machine.travel(timezone.now(), tick=False):
        code = _code(device)
        first, second = Client(), Client()
        _sign_in(first, "amara")
        _sign_in(second, "amara")
        assert first.post("/accounts/two-factor/", {"token": code}).status_code == 302

        replay = second.post("/accounts/two-factor/", {"token": code})

    assert replay.status_code == 200
    assert "already been used" in replay.content.decode()
    assert second.get("/").status_code == 302
    assert AuditEntry.objects.filter(action=AuditAction.OTP_FAILED).count() == 1


@pytest.mark.parametrize("token", ["", "12345", "abcdef", "1234567", "12 34 5x"])
def test_malformed_codes_get_a_clear_message(client: Client, practitioner_user: Any, token: str):
    _enrolled(practitioner_user)
    _sign_in(client, "amara")
    response = client.post("/accounts/two-factor/", {"token": token})
    assert response.status_code == 200
    assert "six digits" in response.content.decode() or "required" in response.content.decode()


def test_a_foreign_next_address_is_not_followed(client: Client, practitioner_user: Any):
    device = _enrolled(practitioner_user)
    _sign_in(client, "amara")
    response = client.post(
        "/accounts/two-factor/", {"token": _code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


@override_settings(OTP_REQUIRED_FOR_CLINICAL=True)
@pytest.mark.parametrize("fixture", ["practitioner_user", "manager"])
def test_when_required_clinical_roles_must_enrol_first(client: Client, request: Any, fixture):
    user = request.getfixturevalue(fixture)
    _sign_in(client, user.username)

    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/setup/")

    page = client.get(response["Location"])
    html = page.content.decode()
    assert 'data-testid="otp-qr"' in html
    assert "data:image/svg+xml" in html
    secret = re.search(r'data-testid="otp-secret">([A-Z2-7 ]+)<', html).group(1)
    assert len(secret.replace(" ", "")) >= 32
    assert not TOTPDevice.objects.filter(user=user).exists()  # nothing written by a GET
    phone_app = TOTPDevice(key=base64.b32decode(secret.replace(" ", "")).hex())

    wrong = client.post("/accounts/two-factor/setup/", {"token": "000000"})
    assert "does not match" in wrong.content.decode()
    with time_machine.travel(timezone.now(), tick=False):
        code = _code(phone_app)
        done = client.post("/accounts/two-factor/setup/", {"token": code, "next": "/"})
        assert done.status_code == 302
        assert client.get("/").status_code == 200
        device = TOTPDevice.objects.get(user=user)
        assert device.confirmed
        # The enrolment code is spent: it cannot sign in on another device.
        other = Client()
        _sign_in(other, user.username)
        assert other.post("/accounts/two-factor/", {"token": code}).status_code == 200
    assert AuditEntry.objects.filter(action=AuditAction.OTP_ENROL, actor_id=user.pk).exists()


@override_settings(OTP_REQUIRED_FOR_CLINICAL=True)
def test_when_required_receptionists_still_sign_in_with_a_password(
    client: Client, receptionist: Any
):
    _sign_in(client, "rosa")
    assert client.get("/").status_code == 200


def test_someone_with_only_the_password_cannot_replace_the_device(
    client: Client, practitioner_user: Any
):
    device = _enrolled(practitioner_user)
    _sign_in(client, "amara")

    response = client.get("/accounts/two-factor/setup/")

    assert response["Location"] == "/accounts/two-factor/"
    assert list(TOTPDevice.objects.filter(user=practitioner_user)) == [device]
