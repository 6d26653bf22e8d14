"""A database that is down or locked answers a clear "try again" (503, Retry-After), not 500."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from django.db import OperationalError, ProgrammingError, connection
from django.test import Client

from bookings.services.tokens import api_token_issue
from clinic import selectors
from clinic.models import Patient

TRY_AGAIN = "Please try again in a moment"


def _raise(error: Exception) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    return fail


@pytest.mark.django_db
def test_a_page_whose_database_is_locked_answers_503_asking_to_try_again(
    client: Client, receptionist: Any, monkeypatch: pytest.MonkeyPatch
):
    client.force_login(receptionist)
    monkeypatch.setattr(selectors, "patient_page", _raise(OperationalError("database is locked")))

    response = client.get("/patients/")

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert TRY_AGAIN in response.content.decode()


@pytest.mark.django_db
def test_an_api_call_whose_database_is_gone_answers_503_with_the_api_error_body(
    receptionist: Any, monkeypatch: pytest.MonkeyPatch
):
    token = api_token_issue(username=receptionist.username)[1]
    text = "connection to server at 10.1.2.3, port 5432 failed"
    gone = OperationalError(text)
    gone.__cause__ = psycopg.OperationalError(text)  # as Django wraps the driver's error
    monkeypatch.setattr("bookings.api.patient_list", _raise(gone))

    response = Client().get("/api/patients", {"q": "zoe"}, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert "try again" in body["detail"]
    assert "10.1.2.3" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "mistake",
    [OperationalError("no such column: patient.nickname"), ProgrammingError("syntax error")],
)
def test_a_programming_error_is_not_passed_off_as_a_busy_database(
    receptionist: Any, monkeypatch: pytest.MonkeyPatch, mistake: Exception
):
    client = Client(raise_request_exception=False)
    client.force_login(receptionist)
    monkeypatch.setattr(selectors, "patient_page", _raise(mistake))

    response = client.get("/patients/")

    assert response.status_code == 500


@contextmanager
def another_process_holds_the_write_lock(patient: Patient) -> Iterator[None]:
    """A second connection holds the lock a write of ``patient`` needs; the app gives up
    after a short wait (the busy timeout on SQLite, lock_timeout on PostgreSQL)."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        saved = settings_dict["OPTIONS"]
        connection.close()
        settings_dict["OPTIONS"] = {
            **saved,
            "timeout": 0.2,
            "init_command": saved["init_command"].replace("busy_timeout=20000", "busy_timeout=200"),
        }
        other = sqlite3.connect(settings_dict["NAME"], isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.rollback()
            other.close()
            connection.close()
            settings_dict["OPTIONS"] = saved
    else:
        other = connection.get_new_connection(connection.get_connection_params())
        other.execute("SELECT id FROM clinic_patient WHERE id = %s FOR UPDATE", [patient.pk])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        try:
            yield
        finally:
            other.rollback()
            other.close()
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")


@pytest.mark.django_db(transaction=True)
def test_a_write_page_answers_503_while_another_process_holds_the_write_lock(
    receptionist: Any, patient: Patient
):
    client = Client(raise_request_exception=False)
    client.force_login(receptionist)

    with another_process_holds_the_write_lock(patient):
        response = client.post(f"/patients/{patient.pk}/archive/")

    assert response.status_code == 503
    assert TRY_AGAIN in response.content.decode()
    patient.refresh_from_db()
    assert patient.is_active
    # The lock is gone: the same request now goes through.
    assert client.post(f"/patients/{patient.pk}/archive/").status_code == 302
