"""In debug mode (make run at the desk), only this machine sees Django's technical pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from bookings.services.tokens import api_token_issue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("debug_on")]

DESK_PC = "127.0.0.1"
NEIGHBOUR = "192.168.1.50"
URL_MAP = "Using the URLconf defined in"
TRACEBACK = "Traceback"


@pytest.fixture
def debug_on() -> Any:
    with override_settings(DEBUG=True):
        yield


@pytest.fixture
def browser() -> Client:
    return Client(raise_request_exception=False)


@pytest.fixture
def broken_healthz(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode() -> tuple[bool, str]:
        raise RuntimeError("secret internals: /srv/clinic/settings.py")

    monkeypatch.setattr("clinic.health.database_status", explode)


def test_an_unknown_page_shows_the_url_map_only_on_this_machine(browser: Client):
    mine = browser.get("/no-such-page/", REMOTE_ADDR=DESK_PC)
    assert mine.status_code == 404
    assert URL_MAP in mine.content.decode()

    theirs = browser.get("/no-such-page/", REMOTE_ADDR=NEIGHBOUR)
    assert theirs.status_code == 404
    html = theirs.content.decode()
    assert URL_MAP not in html
    assert "Page not found" in html


def test_a_forwarded_for_header_naming_localhost_does_not_unlock_the_debug_pages(
    browser: Client,
):
    # A proxy on this machine connects from 127.0.0.1 on behalf of someone else, and a
    # client can write any X-Forwarded-For it likes: either way the request is remote.
    for forwarded in ("127.0.0.1", NEIGHBOUR):
        response = browser.get(
            "/no-such-page/", REMOTE_ADDR=DESK_PC, HTTP_X_FORWARDED_FOR=forwarded
        )
        assert URL_MAP not in response.content.decode()
    spoofed = browser.get("/no-such-page/", REMOTE_ADDR=NEIGHBOUR, HTTP_X_FORWARDED_FOR="::1")
    assert URL_MAP not in spoofed.content.decode()


def test_a_missing_record_from_another_computer_gets_the_plain_404(browser: Client, manager: Any):
    browser.force_login(manager)
    response = browser.get("/patients/987654/", REMOTE_ADDR=NEIGHBOUR)
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert "Raised by" not in html
    assert "987654" not in html


def test_a_crash_shows_the_traceback_only_on_this_machine(browser: Client, broken_healthz: None):
    mine = browser.get("/healthz", REMOTE_ADDR=DESK_PC, HTTP_ACCEPT="text/html")
    assert mine.status_code == 500
    assert TRACEBACK in mine.content.decode()

    for accept in ("text/html", "application/json"):
        theirs = browser.get("/healthz", REMOTE_ADDR=NEIGHBOUR, HTTP_ACCEPT=accept)
        assert theirs.status_code == 500
        body = theirs.content.decode()
        assert TRACEBACK not in body
        assert "secret internals" not in body


def test_an_api_crash_from_another_computer_shows_no_traceback(
    browser: Client, receptionist: Any, monkeypatch: pytest.MonkeyPatch
):
    def explode(request: Any) -> Any:
        raise RuntimeError("secret internals: /srv/clinic/bookings/api.py")

    monkeypatch.setattr("bookings.api._user", explode)
    token = api_token_issue(username=receptionist.username)[1]
    response = browser.get(
        "/api/rooms", REMOTE_ADDR=NEIGHBOUR, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 500
    body = response.content.decode()
    assert "secret internals" not in body
    assert TRACEBACK not in body


def test_a_page_without_its_slash_is_still_redirected_for_other_computers(browser: Client):
    response = browser.get("/patients", REMOTE_ADDR=NEIGHBOUR)
    assert response.status_code == 301
    assert response["Location"] == "/patients/"
