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
    accounts = AuditEntry.objects.filter(object_type__startswith="auth.").count()
    for _ in range(30):
        audit.record_view(trail["patient"])
    with django_assert_max_num_queries(8):
        response = client.get("/audit/")
    # Three from the trail, thirty views, and the entries on staff accounts and roles: their set-up
    # (created, given their roles: accounts are audited too) and the manager's sign-in.
    assert len(response.context["page"].object_list) == 33 + accounts


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


# --- Readable: names, labels and local times ------------------------------------------------------

SUMMER_MORNING_UTC = dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)  # 09:00 in London (BST)


def test_the_report_names_the_patient_with_a_link_instead_of_a_number(
    client: Client, manager: Any, trail: Any
):
    client.force_login(manager)
    other = trail["other"]

    html = client.get("/audit/").content.decode()

    assert f'<a href="/patients/{other.pk}/">Ola Berg</a>' in html
    assert f"#{other.pk}<" not in html


def test_the_report_shows_field_and_choice_labels_and_local_times(
    client: Client, manager: Any, patient: Any
):
    audit.record(
        action=AuditAction.CHANGE,
        obj=patient,
        before={"preferred_contact": "email", "email_reminders": True},
        after={"preferred_contact": "sms", "email_reminders": False},
    )
    audit.record(
        action=AuditAction.CHANGE,
        object_type="bookings.appointment",
        object_id=7,
        patient_id=patient.pk,
        before={"starts_at": SUMMER_MORNING_UTC, "status": "booked"},
        after={"starts_at": SUMMER_MORNING_UTC + dt.timedelta(days=1), "status": "confirmed"},
    )
    client.force_login(manager)

    html = client.get("/audit/").content.decode()

    assert "Preferred contact" in html
    assert "Text message" in html
    assert "preferred_contact" not in html
    assert "email_reminders" not in html
    assert "Starts at" in html
    assert "starts_at" not in html
    assert "T08:00:00Z" not in html
    assert "1 Jul 2026, 09:00" in html  # London summer time, not UTC
    assert "2 Jul 2026, 09:00" in html
    assert "Confirmed" in html
    assert "bookings.appointment" not in html
    assert "Appointment 7" in html


def test_the_report_reads_patient_names_in_one_query_however_many_patients(
    client: Client, manager: Any, django_assert_max_num_queries: Any
):
    client.force_login(manager)
    for number in range(30):
        patient = PatientFactory(given_name="Patient", family_name=f"Number{number}")
        audit.record_view(patient)
    with django_assert_max_num_queries(9):
        response = client.get("/audit/")

    html = response.content.decode()
    assert all(f"Patient Number{number}</a>" in html for number in range(30))


def test_the_csv_export_adds_readable_columns_beside_the_raw_ones(
    client: Client, manager: Any, trail: Any
):
    client.force_login(manager)
    response = client.get("/audit/export.csv", {"patient": trail["patient"].pk})

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["patient_id"] == str(trail["patient"].pk)
    assert rows[0]["patient_name"] == "Zoë Adeyemi"
    assert rows[0]["action_label"] == "Created"
    assert rows[0]["record"] == f"Patient {trail['patient'].pk}"
    assert "Given name: Zoë" in rows[0]["changes"]
    assert "given_name" in rows[0]["after"]  # the raw payload stays for tools
