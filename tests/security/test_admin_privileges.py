"""A manager in the admin cannot make themselves superuser, set a colleague's password (and
sign in as them) or hand out raw permissions; and every change to accounts, roles, 2FA
devices and API tokens is in the audit trail, whichever path it takes."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from bookings.services.tokens import api_token_issue, api_token_revoke
from clinic.models import AuditAction, AuditEntry
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _user_form(user: Any, **changes: Any) -> dict[str, Any]:
    """What the admin's change form for this user posts, changed as a test needs."""
    values: dict[str, Any] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "is_staff": "on" if user.is_staff else "",
        "groups": [group.pk for group in user.groups.all()],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-05",
        "date_joined_1": "09:00:00",
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value != ""}


def _entries(user: Any) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(object_type="auth.user", object_id=str(user.pk)).order_by("seq")
    )


def test_a_manager_cannot_make_themselves_superuser_in_the_admin(
    client: Client, manager: Any
) -> None:
    client.force_login(manager)
    url = reverse("admin:auth_user_change", args=[manager.pk])

    page = client.get(url).content.decode()
    response = client.post(url, _user_form(manager, is_superuser="on"))

    assert response.status_code == 302
    manager.refresh_from_db()
    assert not manager.is_superuser
    assert 'name="is_superuser"' not in page
    assert 'name="user_permissions"' not in page


def test_a_manager_cannot_give_a_colleague_raw_permissions(
    client: Client, manager: Any, receptionist: Any
) -> None:
    client.force_login(manager)
    delete_patients = Permission.objects.get(codename="delete_patient")

    client.post(
        reverse("admin:auth_user_change", args=[receptionist.pk]),
        _user_form(receptionist, user_permissions=[delete_patients.pk], is_superuser="on"),
    )

    receptionist.refresh_from_db()
    assert not receptionist.is_superuser
    assert not receptionist.user_permissions.exists()


def test_a_manager_cannot_set_a_colleagues_password_and_sign_in_as_them(
    client: Client, manager: Any, receptionist: Any
) -> None:
    client.force_login(manager)
    url = reverse("admin:auth_user_password_change", args=[receptionist.pk])

    assert client.get(url).status_code == 403
    response = client.post(
        url,
        {"password1": "taken-over-9876", "password2": "taken-over-9876", "usable_password": "true"},
    )

    assert response.status_code == 403
    receptionist.refresh_from_db()
    assert receptionist.check_password(TEST_PASSWORD)
    assert not Client().login(username=receptionist.username, password="taken-over-9876")


def test_a_manager_cannot_touch_a_superusers_account(client: Client, manager: Any) -> None:
    owner = UserFactory(username="owner", is_staff=True, is_superuser=True)
    client.force_login(manager)

    response = client.post(
        reverse("admin:auth_user_change", args=[owner.pk]),
        _user_form(owner, email="manager@evil.example", is_active=""),
    )

    assert response.status_code == 403
    owner.refresh_from_db()
    assert (owner.email, owner.is_active) == ("owner@staff.example", True)


def test_a_superuser_still_manages_passwords_and_superusers(
    client: Client, receptionist: Any
) -> None:
    owner = UserFactory(username="owner", is_staff=True, is_superuser=True)
    client.force_login(owner)

    response = client.post(
        reverse("admin:auth_user_password_change", args=[receptionist.pk]),
        {
            "password1": "fresh-start-9876",
            "password2": "fresh-start-9876",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302
    receptionist.refresh_from_db()
    assert receptionist.check_password("fresh-start-9876")


def test_account_changes_in_the_admin_are_audited_with_who_and_what(
    client: Client, manager: Any, receptionist: Any
) -> None:
    practitioners = Group.objects.get(name="Practitioner")
    client.force_login(manager)
    already = len(_entries(receptionist))

    client.post(
        reverse("admin:auth_user_change", args=[receptionist.pk]),
        _user_form(
            receptionist,
            email="rosa.b@staff.example",
            groups=[*receptionist.groups.values_list("pk", flat=True), practitioners.pk],
        ),
    )

    entries = _entries(receptionist)[already:]
    assert {entry.actor_username for entry in entries} == {"malcolm"}
    assert any('"rosa.b@staff.example"' in entry.after for entry in entries)
    assert any(entry.detail == "groups: added Practitioner" for entry in entries)


def test_a_password_change_is_audited_without_the_hash(receptionist: Any) -> None:
    receptionist.set_password("another-secret-9876")
    receptionist.save()

    entry = _entries(receptionist)[-1]
    assert entry.action == AuditAction.CHANGE
    assert entry.after == '{"password":"(changed)"}'
    assert receptionist.password not in entry.before + entry.after


def test_superuser_status_granted_anywhere_is_audited(receptionist: Any) -> None:
    # The shell's path: no admin, no service, just a save.
    receptionist.is_superuser = True
    receptionist.save()

    entry = _entries(receptionist)[-1]
    assert (entry.before, entry.after) == ('{"is_superuser":false}', '{"is_superuser":true}')


def test_a_role_gaining_a_permission_is_audited(manager: Any) -> None:
    practitioners = Group.objects.get(name="Practitioner")
    practitioners.permissions.add(Permission.objects.get(codename="delete_patient"))

    entry = AuditEntry.objects.filter(object_type="auth.group").latest("seq")
    assert entry.object_id == str(practitioners.pk)
    assert entry.detail.startswith("permissions: added ")
    assert "delete patient" in entry.detail.lower()


def test_two_factor_devices_and_api_tokens_are_audited(receptionist: Any, manager: Any) -> None:
    device = TOTPDevice.objects.create(user=receptionist, name="Phone", confirmed=True)
    device.delete()
    token, _clear = api_token_issue(username=manager.username, name="Website")
    api_token_revoke(token=token)

    devices = AuditEntry.objects.filter(object_type="otp_totp.totpdevice").order_by("seq")
    assert [entry.action for entry in devices] == [AuditAction.CREATE, AuditAction.DELETE]
    assert device.key not in "".join(entry.after + entry.before for entry in devices)
    tokens = AuditEntry.objects.filter(object_type="bookings.apitoken").order_by("seq")
    assert [entry.action for entry in tokens] == [AuditAction.CREATE, AuditAction.CHANGE]
    assert token.token_hash not in "".join(entry.after + entry.before for entry in tokens)
    assert '"revoked_at"' in tokens[1].after


def test_an_unknown_2fa_device_config_page_is_a_404(client: Client) -> None:
    client.force_login(UserFactory(username="owner", is_staff=True, is_superuser=True))

    assert client.get("/admin/otp_totp/totpdevice/999999/config/").status_code == 404
    assert client.get("/admin/otp_totp/totpdevice/999999/qrcode/").status_code == 404
