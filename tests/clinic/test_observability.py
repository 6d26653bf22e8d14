"""Errors reach someone without patient data; every request has an id in its logs and answer.

The Sentry test runs a real sentry_sdk client (Django integration, our scrubbers) whose
transport keeps the envelopes in memory instead of sending them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from django.test import Client
from django.urls import reverse
from sentry_sdk.transport import Transport

from clinic import observability
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

CANARY_NAME = "Zebulon Quartzfeather"
CANARY_EMAIL = "zebulon.canary@patients.example"
CANARY_PHONE = "07700 900123"


class RecordingTransport(Transport):
    """Keeps every envelope the client would send."""

    # On the class: sentry_sdk makes its own instance of the transport.
    envelopes: list[Any] = []

    def capture_envelope(self, envelope: Any) -> None:
        RecordingTransport.envelopes.append(envelope)


@pytest.fixture
def sentry_recording() -> Iterator[None]:
    RecordingTransport.envelopes = []
    observability.init_sentry(
        dsn="https://public@sentry.invalid/1", environment="test", transport=RecordingTransport
    )
    yield
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: a disabled client for the tests after this one


def recorded_events() -> list[dict[str, Any]]:
    sentry_sdk.get_client().flush()
    events = []
    for envelope in RecordingTransport.envelopes:
        for item in envelope.items:
            if item.type == "event":
                events.append(json.loads(item.payload.get_bytes()))
    return events


def test_an_error_while_saving_a_patient_reaches_sentry_without_the_patients_details(
    sentry_recording: None,
    manager: Any,
    monkeypatch: pytest.MonkeyPatch,
):
    given, family = CANARY_NAME.split()
    patient = PatientFactory(given_name=given, family_name=family, email=CANARY_EMAIL)

    def failing_update(*, patient: Any, details: Any) -> None:
        note = f"{patient.given_name} {patient.family_name} <{patient.email}>"
        raise RuntimeError(f"could not save {note}: {details}")

    monkeypatch.setattr("clinic.views.services.patient_update", failing_update)
    client = Client(raise_request_exception=False)
    client.force_login(manager)
    client.cookies["patient_hint"] = CANARY_EMAIL
    form = {
        "given_name": given,
        "family_name": family,
        "date_of_birth": "1985-02-14",
        "email": CANARY_EMAIL,
        "phone": CANARY_PHONE,
        "preferred_contact": "email",
        "notes": f"Canary note for {CANARY_NAME}",
    }
    logging.getLogger("clinic.tests").warning("opening %s", CANARY_EMAIL)

    response = client.post(
        reverse("clinic:patient_update", args=[patient.pk]) + f"?q={given}", form
    )

    assert response.status_code == 500
    events = recorded_events()
    assert events, "the error was not reported"
    event = events[-1]
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert any(
        frame.get("function") == "failing_update"
        for frame in event["exception"]["values"][-1]["stacktrace"]["frames"]
    )
    text = json.dumps(event)
    for canary in (given, family, CANARY_EMAIL, "zebulon", "Quartzfeather".lower(), "900123"):
        assert canary.lower() not in text.lower(), canary


def test_scrubbing_removes_patient_fields_bodies_cookies_and_user_details():
    event = {
        "request": {
            "url": "https://clinic.example/patients/7/edit/",
            "data": {"given_name": "Ann"},
            "cookies": {"sessionid": "secret"},
            "query_string": "q=Ann",
            "headers": {"Cookie": "sessionid=secret", "User-Agent": "Firefox"},
        },
        "user": {"id": "3", "email": "staff@clinic.example", "username": "ann.staff"},
        "extra": {"patient": "Ann Smith"},
        "contexts": {"celery": {"kwargs": {"email": "ann@patients.example", "id": 7}}},
        "breadcrumbs": {"values": [{"category": "log", "message": "Ann Smith", "data": {}}]},
    }

    scrubbed = observability.scrub_event(event, {})

    assert scrubbed["request"] == {
        "url": "https://clinic.example/patients/7/edit/",
        "headers": {"User-Agent": "Firefox"},
    }
    assert scrubbed["user"] == {"id": "3"}
    assert "extra" not in scrubbed
    assert scrubbed["contexts"]["celery"]["kwargs"] == {"email": "[redacted]", "id": 7}
    assert scrubbed["breadcrumbs"]["values"] == [{"category": "log"}]


def test_every_answer_carries_a_request_id_and_a_safe_incoming_one_is_kept(client: Client):
    fresh = client.get("/healthz")
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234abcd")
    hostile = client.get("/healthz", HTTP_X_REQUEST_ID="x\nforged log line")

    assert len(fresh["X-Request-ID"]) == 32
    assert kept["X-Request-ID"] == "lb-1234abcd"
    assert "\n" not in hostile["X-Request-ID"]
    assert hostile["X-Request-ID"] != fresh["X-Request-ID"]


def test_json_log_lines_carry_the_request_id_of_the_request_that_wrote_them(
    client: Client, monkeypatch: pytest.MonkeyPatch
):
    lines: list[str] = []
    handler = logging.Handler()
    handler.addFilter(observability.RequestIdFilter())
    formatter = observability.JsonFormatter()
    handler.emit = lambda record: lines.append(formatter.format(record))  # type: ignore[method-assign]
    logger = logging.getLogger("clinic.health")
    logger.addHandler(handler)
    monkeypatch.setattr(
        "clinic.views.health.broker_status", lambda: logger.warning("checked") or (True, "ok")
    )
    try:
        response = client.get("/healthz", HTTP_X_REQUEST_ID="trace-5678efgh")
    finally:
        logger.removeHandler(handler)

    assert response["X-Request-ID"] == "trace-5678efgh"
    entry = json.loads(lines[-1])
    assert entry["message"] == "checked"
    assert entry["request_id"] == "trace-5678efgh"
    assert entry["level"] == "WARNING"
