"""The patient timeline registry: apps plug in entries and buttons; clinic merges, sorts and
hides clinical detail from receptionists. The clinic's own provider lists emails."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from clinic import timeline
from clinic.models import MessageStatus, OutboundMessage

pytestmark = pytest.mark.django_db

TEST_PROVIDER = "tests.timeline"
MARCH = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def provider() -> Iterator[list[timeline.TimelineEntry]]:
    """Entries a pretend app hands the timeline; removed again after the test."""
    entries: list[timeline.TimelineEntry] = []
    timeline.register_entries(TEST_PROVIDER, lambda patient: entries)
    yield entries
    timeline.unregister(TEST_PROVIDER)


def test_entries_from_every_provider_come_newest_first(
    patient: Any, practitioner: Any, provider: list[timeline.TimelineEntry]
):
    provider.extend(
        [
            timeline.TimelineEntry(at=MARCH, kind="session", title="Session 1"),
            timeline.TimelineEntry(
                at=MARCH + dt.timedelta(days=21), kind="appointment", title="Session 2 booked"
            ),
            timeline.TimelineEntry(
                at=timeline.at_local_date(dt.date(2026, 2, 1)),
                kind="assessment",
                title="Assessed",
                date_only=True,
            ),
        ]
    )

    titles = [entry.title for entry in timeline.entries_for(patient, user=practitioner.user)]

    assert titles == ["Session 2 booked", "Session 1", "Assessed"]


def test_receptionists_get_clinical_entries_without_detail_or_link(
    patient: Any, receptionist: Any, practitioner: Any, provider: list[timeline.TimelineEntry]
):
    provider.append(
        timeline.TimelineEntry(
            at=MARCH,
            kind="session",
            title="Session 1 of 6",
            detail="Intensity 4, two passes, mild redness",
            url="/sessions/1/",
            clinical=True,
        )
    )
    provider.append(
        timeline.TimelineEntry(
            at=MARCH, kind="appointment", title="Booked", detail="Room 1", url="/a/1/"
        )
    )

    seen_by_reception = timeline.entries_for(patient, user=receptionist)
    seen_by_practitioner = timeline.entries_for(patient, user=practitioner.user)

    assert [(e.title, e.detail, e.url) for e in seen_by_reception] == [
        ("Session 1 of 6", "", ""),
        ("Booked", "Room 1", "/a/1/"),
    ]
    assert seen_by_practitioner[0].detail == "Intensity 4, two passes, mild redness"


def test_registering_a_name_twice_replaces_the_provider(patient: Any, practitioner: Any):
    timeline.register_entries(
        TEST_PROVIDER, lambda patient: [timeline.TimelineEntry(at=MARCH, kind="x", title="old")]
    )
    timeline.register_entries(
        TEST_PROVIDER, lambda patient: [timeline.TimelineEntry(at=MARCH, kind="x", title="new")]
    )
    try:
        titles = [e.title for e in timeline.entries_for(patient, user=practitioner.user)]
    finally:
        timeline.unregister(TEST_PROVIDER)

    assert titles.count("new") == 1
    assert "old" not in titles


def test_a_naive_time_is_refused_so_entries_always_sort():
    with pytest.raises(ValueError, match="aware datetime"):
        timeline.TimelineEntry(at=dt.datetime(2026, 3, 10, 9, 0), kind="x", title="naive")  # noqa: DTZ001


def test_actions_are_ordered_and_rendered_as_buttons_on_the_patient_page(
    patient: Any, receptionist: Any
):
    timeline.register_actions(
        TEST_PROVIDER,
        lambda patient, user: [
            timeline.PatientAction(label="Second", url="/second/", order=50),
            timeline.PatientAction(label="First", url="/first/", order=1, primary=True),
        ],
    )
    try:
        actions = timeline.actions_for(patient, user=receptionist)
        client = Client()
        client.force_login(receptionist)
        html = client.get(reverse("clinic:patient_detail", args=[patient.pk])).content.decode()
    finally:
        timeline.unregister(TEST_PROVIDER)

    labels = [action.label for action in actions]
    assert labels.index("First") < labels.index("Second")
    assert '<a class="btn btn-clinic" href="/first/">First</a>' in html


# --- The clinic's own entries: emails ----------------------------------------------------------


def message(patient: Any, status: str, **values: Any) -> OutboundMessage:
    defaults = {
        "kind": "appointment_reminder",
        "idempotency_key": f"test:{status}:{OutboundMessage.objects.count()}",
        "patient": patient,
        "recipient": patient.email,
        "subject": "Your appointment on Tuesday",
        "status": status,
        "due_at": MARCH,
    }
    defaults.update(values)
    return OutboundMessage.objects.create(**defaults)


def test_sent_failed_and_skipped_emails_appear_but_pending_ones_do_not(
    patient: Any, receptionist: Any
):
    message(patient, MessageStatus.SENT, sent_at=MARCH + dt.timedelta(minutes=1))
    message(patient, MessageStatus.FAILED)
    message(
        patient,
        MessageStatus.SKIPPED,
        skip_reason="No consent to email reminders",
        due_at=MARCH - dt.timedelta(hours=1),
    )
    message(patient, MessageStatus.PENDING)

    entries = [
        entry
        for entry in timeline.entries_for(patient, user=receptionist)
        if entry.kind == "message"
    ]

    assert [entry.title for entry in entries] == [
        "Appointment reminder email sent",
        "Appointment reminder email could not be sent",
        "Appointment reminder email not sent",
    ]
    assert entries[0].detail == f"“Your appointment on Tuesday” to {patient.email}"
    assert entries[2].detail == "No consent to email reminders"
