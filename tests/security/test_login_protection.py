"""Brute force: per username at an address, longer per spraying address, a cool-off, an
email to the user, correct behind a proxy, audited."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from clinic.models import AuditAction, AuditEntry
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


WRONG_PASSWORD = "wrong-password-x"


def _attempt(client: Client, username: str, password: str = WRONG_PASSWORD, **extra: Any):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def test_five_wrong_passwords_pause_sign_in_with_a_clear_page(client: Client, receptionist: Any):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert _attempt(client, "rosa").status_code == 200

    response = _attempt(client, "rosa")

    assert response.status_code == 429
    html = response.content.decode()
    assert "Sign-in paused" in html
    assert "15 minutes" in html
    assert 'href="/accounts/password/reset/"' in html
    # Even the right password is refused while paused.
    assert _attempt(client, "rosa", TEST_PASSWORD).status_code == 429


def test_the_pause_lifts_after_the_cool_off(client: Client, receptionist: Any):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(5):
            _attempt(client, "rosa")
        assert _attempt(client, "rosa", TEST_PASSWORD).status_code == 429
        clock.shift(dt.timedelta(minutes=16))
        response = _attempt(client, "rosa", TEST_PASSWORD)
    assert response.status_code == 302


def test_five_wrong_passwords_from_one_address_do_not_stop_the_user_signing_in_elsewhere(
    receptionist: Any,
):
    attacker = Client(REMOTE_ADDR="198.51.100.1")
    for _ in range(5):
        _attempt(attacker, "rosa")

    assert _attempt(attacker, "rosa", TEST_PASSWORD).status_code == 429
    assert _attempt(Client(REMOTE_ADDR="198.51.100.2"), "rosa", TEST_PASSWORD).status_code == 302


def test_guesses_spread_over_addresses_lock_none_of_them_out_of_the_right_password(
    receptionist: Any,
):
    for octet in range(1, 6):
        _attempt(Client(REMOTE_ADDR=f"198.51.100.{octet}"), "rosa")

    response = _attempt(Client(REMOTE_ADDR="198.51.100.99"), "rosa", TEST_PASSWORD)

    assert response.status_code == 302


def test_a_lockout_emails_the_user_once(receptionist: Any):
    attacker = Client(REMOTE_ADDR="198.51.100.1")
    for _ in range(8):
        _attempt(attacker, "rosa")

    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == ["rosa@staff.example"]
    assert "paused" in notice.subject
    assert "198.51.100.1" in notice.body
    assert "/accounts/password/reset/" in notice.body
    assert AuditEntry.objects.filter(action=AuditAction.LOCKOUT).count() == 1


def test_one_address_is_locked_whatever_usernames_it_tries(receptionist: Any):
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for name in ["a-user", "b-user", "c-user", "d-user", "e-user"]:
        _attempt(attacker, name)

    assert _attempt(attacker, "rosa", TEST_PASSWORD).status_code == 429
    assert _attempt(Client(REMOTE_ADDR="203.0.113.8"), "rosa", TEST_PASSWORD).status_code == 302


def test_an_address_that_sprays_usernames_stays_paused_longer_than_one_username(
    receptionist: Any,
):
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for name in ["a-user", "b-user", "c-user", "d-user", "e-user"]:
            _attempt(attacker, name)
        clock.shift(dt.timedelta(minutes=16))
        paused = _attempt(attacker, "rosa", TEST_PASSWORD)
        clock.shift(dt.timedelta(minutes=61))
        later = _attempt(attacker, "rosa", TEST_PASSWORD)

    assert paused.status_code == 429
    assert "60 minutes" in paused.content.decode()
    assert later.status_code == 302


def test_without_a_trusted_proxy_a_forged_forwarded_header_is_ignored(receptionist: Any):
    for octet in range(1, 6):
        _attempt(
            Client(REMOTE_ADDR="203.0.113.50", HTTP_X_FORWARDED_FOR=f"10.9.9.{octet}"),
            f"user{octet}",
        )

    response = _attempt(Client(REMOTE_ADDR="203.0.113.50"), "rosa", TEST_PASSWORD)

    assert response.status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1, TRUSTED_PROXIES=["10.0.0.0/24"])
def test_behind_a_trusted_proxy_each_client_address_counts_separately(receptionist: Any):
    proxy = "10.0.0.2"
    for octet in range(1, 6):
        _attempt(
            Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"198.51.100.{octet}"),
            f"user{octet}",
        )
    # The proxy's address is not locked: a sixth client behind it signs in, and the trail
    # records the client's address, not the proxy's.
    behind_proxy = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.77")
    assert _attempt(behind_proxy, "rosa", TEST_PASSWORD).status_code == 302
    entry = AuditEntry.objects.filter(action=AuditAction.LOGIN).latest("seq")
    assert entry.ip_address == "198.51.100.77"


@override_settings(TRUSTED_PROXY_COUNT=1, TRUSTED_PROXIES=["10.0.0.0/24"])
def test_behind_a_proxy_a_client_cannot_forge_its_address(receptionist: Any):
    # The client sends its own X-Forwarded-For; the proxy appends the real address.
    for forged in ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"]:
        _attempt(
            Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"{forged}, 203.0.113.9"),
            f"user-{forged}",
        )

    again = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.9")
    assert _attempt(again, "rosa", TEST_PASSWORD).status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1, TRUSTED_PROXIES=["10.0.0.2"])
def test_behind_a_proxy_a_client_reaching_the_app_directly_cannot_pick_its_address(
    receptionist: Any,
):
    for octet in range(1, 6):
        _attempt(
            Client(REMOTE_ADDR="203.0.113.60", HTTP_X_FORWARDED_FOR=f"198.51.100.{octet}"),
            f"user{octet}",
        )

    again = Client(REMOTE_ADDR="203.0.113.60", HTTP_X_FORWARDED_FOR="198.51.100.200")
    assert _attempt(again, "rosa", TEST_PASSWORD).status_code == 429
    entry = AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED).latest("seq")
    assert entry.ip_address == "203.0.113.60"


def test_every_failure_and_lockout_is_logged_and_audited(
    client: Client, receptionist: Any, caplog: Any
):
    caplog.set_level(logging.INFO)
    for _ in range(5):
        _attempt(client, "rosa", HTTP_USER_AGENT="Guessbot/1.0")

    failures = AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED)
    assert failures.count() == 5
    first = failures.earliest("seq")
    assert (first.object_id, first.ip_address, first.user_agent) == (
        str(receptionist.pk),
        "127.0.0.1",
        "Guessbot/1.0",
    )
    assert AuditEntry.objects.filter(action=AuditAction.LOCKOUT).count() == 1
    messages = [record.getMessage() for record in caplog.records]
    assert sum("failed sign-in for username 'rosa'" in message for message in messages) == 5
    assert any("sign-in locked out" in message for message in messages)


def test_a_successful_sign_in_is_audited_with_the_user(client: Client, receptionist: Any):
    client.post("/accounts/login/", {"username": "rosa", "password": TEST_PASSWORD})

    entry = AuditEntry.objects.get(action=AuditAction.LOGIN)
    assert (entry.actor_id, entry.actor_username) == (receptionist.pk, "rosa")


def test_a_deactivated_user_cannot_sign_in(client: Client):
    UserFactory(username="gone", is_active=False)
    response = _attempt(client, "gone", TEST_PASSWORD)
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
