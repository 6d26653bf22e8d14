from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from clinic import clock, health
from clinic.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_healthz_is_green_when_database_and_broker_answer(client: Any):
    health.record_sweep(now=clock.now())  # beat ran its sweep a moment ago

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True


def test_healthz_needs_no_login_and_is_not_cached(client: Any):
    response = client.get("/healthz")
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_when_the_broker_is_down(client: Any, monkeypatch: pytest.MonkeyPatch):
    # A real, unreachable broker: nothing listens on port 1 of loopback.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["broker"]["ok"] is False
    assert body["database"]["ok"] is True


def test_healthz_is_503_when_the_database_is_down(client: Any, monkeypatch: pytest.MonkeyPatch):
    def broken_cursor(*args: Any, **kwargs: Any) -> Any:
        raise connection.Database.OperationalError(
            'connection to server at "db.internal" (10.1.2.3), port 5432 failed'
        )

    monkeypatch.setattr(connection, "cursor", broken_cursor)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False
    # The failing part is named; the driver's text (host, port) is only in the log.
    assert "database" in response.json()["database"]["detail"]
    for internal in ("db.internal", "10.1.2.3", "5432", "OperationalError"):
        assert internal not in response.content.decode()
