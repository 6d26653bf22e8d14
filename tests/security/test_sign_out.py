"""Signing out: a sign-out link opened by GET asks first; the sign-in page then says why the
user is there (signed out, or signed out after a spell without activity)."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

IDLE_MESSAGE = "You were signed out after 30 minutes without activity."


def _sign_in(client: Client, username: str) -> None:
    response = client.post("/accounts/login/", {"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]


def test_opening_the_sign_out_address_asks_to_sign_out_with_a_button(
    client: Client, receptionist: Any
):
    _sign_in(client, "rosa")

    response = client.get("/accounts/logout/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'method="post"' in html
    assert 'action="/accounts/logout/"' in html
    assert ">Sign out</button>" in html
    # Opening the page signed nobody out: GET changes nothing (CSRF-safe).
    assert client.get("/").status_code == 200


def test_the_sign_out_page_sends_a_signed_out_visitor_to_sign_in(client: Client):
    response = client.get("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_signing_out_lands_on_sign_in_saying_so(client: Client, receptionist: Any):
    _sign_in(client, "rosa")

    response = client.post("/accounts/logout/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    html = response.content.decode()
    assert "You have signed out." in html
    assert IDLE_MESSAGE not in html
    # Said once: the next visit to the sign-in page is plain.
    assert "You have signed out." not in client.get("/accounts/login/").content.decode()


def test_an_idle_time_out_lands_on_sign_in_saying_why(client: Client, receptionist: Any):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _sign_in(client, "rosa")
        clock.shift(31 * 60)
        response = client.get("/patients/", follow=True)
        again = client.get("/accounts/login/")

    assert response.redirect_chain[-1][0].startswith("/accounts/login/?next=/patients/")
    assert IDLE_MESSAGE in response.content.decode()
    assert IDLE_MESSAGE not in again.content.decode()


def test_an_active_session_says_nothing_about_idling(client: Client, receptionist: Any):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _sign_in(client, "rosa")
        clock.shift(29 * 60)
        assert client.get("/").status_code == 200
        clock.shift(29 * 60)
        response = client.get("/")

    assert response.status_code == 200
    assert IDLE_MESSAGE not in response.content.decode()


def test_a_signed_out_user_who_comes_back_later_is_not_told_they_idled(
    client: Client, receptionist: Any
):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _sign_in(client, "rosa")
        client.post("/accounts/logout/", follow=True)
        clock.shift(2 * 60 * 60)
        response = client.get("/", follow=True)

    assert IDLE_MESSAGE not in response.content.decode()
