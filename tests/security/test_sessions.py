"""Sessions end when they should: idle, absolute lifetime, logout, deactivation, new password."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _sign_in(client: Client, username: str) -> None:
    response = client.post("/accounts/login/", {"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]


def test_signing_in_gives_a_new_session_key(client: Client, receptionist: Any):
    client.get("/accounts/login/")
    client.session.save()
    before = client.session.session_key

    _sign_in(client, "rosa")

    assert client.session.session_key != before


def test_an_idle_session_expires_after_the_idle_timeout(client: Client, receptionist: Any):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _sign_in(client, "rosa")
        clock.shift(29 * 60)
        assert client.get("/").status_code == 200
        clock.shift(29 * 60)
        assert client.get("/").status_code == 200
        clock.shift(31 * 60)
        response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_active_session_still_ends_after_the_absolute_lifetime(
    client: Client, receptionist: Any
):
    assert settings.SESSION_ABSOLUTE_HOURS == 12
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _sign_in(client, "rosa")
        for _ in range(47):  # busy all day: a request every 15 minutes, 11 h 45 min
            clock.shift(15 * 60)
            assert client.get("/").status_code == 200
        clock.shift(20 * 60)  # 12 h 05 min after signing in, 20 minutes idle
        response = client.get("/", follow=True)
    assert response.redirect_chain[0][0].startswith("/accounts/login/")
    assert "Your session has ended" in response.content.decode()


def test_logout_deletes_the_session(client: Client, receptionist: Any):
    _sign_in(client, "rosa")
    key = client.session.session_key

    client.post("/accounts/logout/")

    assert not Session.objects.filter(session_key=key).exists()


def test_deactivating_a_user_ends_all_their_sessions(receptionist: Any, practitioner_user: Any):
    desk, back_office, colleague = Client(), Client(), Client()
    _sign_in(desk, "rosa")
    _sign_in(back_office, "rosa")
    _sign_in(colleague, "amara")

    receptionist.is_active = False
    receptionist.save()
    receptionist.is_active = True
    receptionist.save()  # even reactivated, the old sessions stay dead

    assert desk.get("/").status_code == 302
    assert back_office.get("/").status_code == 302
    assert colleague.get("/").status_code == 200


def test_changing_password_keeps_this_session_and_ends_the_others(receptionist: Any):
    here, elsewhere = Client(), Client()
    _sign_in(here, "rosa")
    _sign_in(elsewhere, "rosa")

    response = here.post(
        "/accounts/password/change/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "a much longer passphrase for the clinic",
            "new_password2": "a much longer passphrase for the clinic",
        },
    )

    assert response.status_code == 302
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "at least 10 characters"),
        ("password123", "too common"),
        ("12345678901234", "entirely numeric"),
    ],
)
def test_weak_new_passwords_are_refused_with_a_reason(
    client: Client, receptionist: Any, password: str, message: str
):
    client.force_login(receptionist)
    response = client.post(
        "/accounts/password/change/",
        {"old_password": TEST_PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    assert message in response.content.decode()


def test_a_long_passphrase_is_accepted(client: Client, receptionist: Any):
    passphrase = "correct horse battery staple " * 5  # 145 characters
    client.force_login(receptionist)
    response = client.post(
        "/accounts/password/change/",
        {"old_password": TEST_PASSWORD, "new_password1": passphrase, "new_password2": passphrase},
    )
    assert response.status_code == 302
    receptionist.refresh_from_db()
    assert receptionist.check_password(passphrase)
