"""A stalled scheduler shows: no sweep for BEAT_STALE_MINUTES is on /healthz and the staff home."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from clinic import clock, health
from clinic.tasks import dispatch_due_messages

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_healthz_reports_the_scheduler_ok_while_sweeps_run(client: Client):
    dispatch_due_messages.delay()

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["beat"] == {"ok": True}
    assert response.json()["status"] == "ok"


def test_healthz_reports_a_stalled_scheduler_without_taking_the_web_out_of_service(
    client: Client, settings: Any
):
    settings.BEAT_STALE_MINUTES = 10
    health.record_sweep(now=clock.now() - timedelta(minutes=11))

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["beat"] == {"ok": False}
    assert body["status"] == "degraded"


def test_a_scheduler_that_never_swept_counts_as_stalled(client: Client):
    assert client.get("/healthz").json()["beat"] == {"ok": False}


def test_managers_and_receptionists_see_a_stalled_scheduler_on_their_home_page(
    manager: Any, receptionist: Any, practitioner_user: Any
):
    health.record_sweep(now=clock.now() - timedelta(hours=2))

    for user in (manager, receptionist):
        page = signed_in(user).get("/").content.decode()
        assert "Scheduled emails are not going out" in page
    assert "Scheduled emails are not going out" not in (
        signed_in(practitioner_user).get("/").content.decode()
    )


def test_the_home_page_has_no_warning_while_sweeps_run(manager: Any):
    dispatch_due_messages.delay()

    assert "Scheduled emails are not going out" not in signed_in(manager).get("/").content.decode()
