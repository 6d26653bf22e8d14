"""Managers read the audit trail: filter by patient, user, action and period; export CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.test import Client

from clinic import audit
from clinic.models import AuditAction, AuditEntry
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

LONDON_MORNING = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def trail(manager: Any, receptionist: Any, patient: Any) -> dict[str, Any]:
    other = PatientFactory(given_name="Ola", family_name="Berg")
    with time_machine.travel(LONDON_MORNING, tick=False) as clock:
        with audit.acting_as("task:seed"):
            audit.record(action=AuditAction.CREATE, obj=patient, after=audit.snapshot(patient))
        clock.shift(dt.timedelta(days=1))
        audit.record(action=AuditAction.CREATE, obj=other, after=audit.snapshot(other))
        clock.shift(dt.timedelta(days=1))
        audit.record_view(other)
    return {"patient": patient, "other": other}


def test_the_report_lists_entries_newest_first(client: Client, manager: Any, trail: Any):
    client.force_login(manager)
    response = client.get("/audit/")
    rows = list(response.context["page"].object_list)
    assert [row.at for row in rows] == sorted((row.at for row in rows), reverse=True)
    html = response.content.decode()
    assert "Zoë" in html  # the created patient's values are shown as the change
    assert "task:seed" in html


@pytest.mark.parametrize(
    ("query", "expected_actions"),
    [
        ({"action": "view"}, ["view"]),
        ({"user": "task:seed"}, ["create"]),
        ({"date_from": "2026-03-11", "date_to": "2026-03-11"}, ["create"]),
        ({"date_from": "2026-03-12", "date_to": "2026-03-12"}, ["view"]),
    ],
)
def test_filters_narrow_the_report(
    client: Client, manager: Any, trail: Any, query: dict, expected_actions: list[str]
):
    client.force_login(manager)
    rows = client.get("/audit/", query).context["page"].object_list
    assert [row.action for row in rows] == expected_actions


def test_filtering_by_patient_shows_only_their_entries(client: Client, manager: Any, trail: Any):
    client.force_login(manager)
    other = trail["other"]
    rows = client.get("/audit/", {"patient": other.pk}).context["page"].object_list
    assert {row.patient_id for row in rows} == {other.pk}
    assert len(rows) == 2


def test_bad_filters_get_a_message_not_an_error(client: Client, manager: Any, trail: Any):
    client.force_login(manager)
    response = client.get(
        "/audit/", {"patient": "abc", "date_from": "2026-03-12", "date_to": "2026-03-01"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a whole number" in html
    assert "on or after the start date" in html


def test_the_report_page_runs_a_fixed_number_of_queries(
    client: Client, manager: Any, trail: Any, django_assert_max_num_queries: Any
):
    client.force_login(manager)
    for _ in range(30):
        audit.record_view(trail["patient"])
    with django_assert_max_num_queries(8):
        response = client.get("/audit/")
    # Three from the trail, thirty views, and the manager's own sign-in.
    assert len(response.context["page"].object_list) == 34


def test_the_csv_export_has_the_filtered_rows_and_is_itself_audited(
    client: Client, manager: Any, trail: Any
):
    client.force_login(manager)
    response = client.get("/audit/export.csv", {"patient": trail["patient"].pk})
    assert response["Content-Disposition"] == 'attachment; filename="audit-report.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["action"] for row in rows] == ["create"]
    assert rows[0]["username"] == "task:seed"
    assert rows[0]["time"].startswith("2026-03-10T09:00:00")  # London is on GMT in March
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


@pytest.mark.parametrize("fixture", ["receptionist", "practitioner_user"])
def test_only_managers_see_the_audit_report(client: Client, request: Any, fixture: str):
    client.force_login(request.getfixturevalue(fixture))
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
