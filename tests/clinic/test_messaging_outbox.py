"""The staff outbox: what went to patients, filters, failures with their error, resend."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic import emails, messaging
from clinic.models import AuditEntry, MessageKind, MessageStatus, OutboundMessage
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 8, 9, 0, tzinfo=dt.UTC)
OUTBOX = reverse("clinic:outbox_list")


def add_message(
    patient: Any,
    *,
    key: str,
    kind: str = MessageKind.APPOINTMENT_REMINDER,
    status: str = MessageStatus.SENT,
    due_at: dt.datetime = NOW,
    subject: str = "Reminder: your appointment tomorrow",
    **fields: Any,
) -> OutboundMessage:
    message, _ = messaging.message_record(
        kind=kind,
        idempotency_key=key,
        patient=patient,
        recipient=patient.email,
        about=patient,
        rendered=emails.RenderedEmail(subject=subject, text=f"Dear {patient.given_name}", html=""),
        due_at=due_at,
    )
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=status, sent_at=due_at if status == MessageStatus.SENT else None, **fields
    )
    message.refresh_from_db()
    return message


@pytest.mark.parametrize("persona", ["receptionist", "practitioner_user", "manager"])
def test_every_role_can_read_the_outbox(client, request, persona, patient):
    add_message(patient, key="k1")
    client.force_login(request.getfixturevalue(persona))

    response = client.get(OUTBOX)

    assert response.status_code == 200
    assert b"Reminder: your appointment tomorrow" in response.content
    assert b"Outbox" in response.content


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(OUTBOX)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_empty_outbox_says_what_will_appear(client, receptionist):
    client.force_login(receptionist)
    response = client.get(OUTBOX)
    assert b"No emails yet" in response.content


def test_failures_show_their_error_and_a_resend_button(client, receptionist, patient):
    failed = add_message(
        patient,
        key="k-failed",
        status=MessageStatus.FAILED,
        attempts=5,
        last_error="SMTP 451: 4.3.0 Mailbox busy, try again later",
    )
    add_message(patient, key="k-sent")
    client.force_login(receptionist)

    response = client.get(OUTBOX)

    content = response.content.decode()
    assert "SMTP 451: 4.3.0 Mailbox busy" in content
    assert reverse("clinic:outbox_resend", args=[failed.pk]) in content
    assert content.count("Resend<span") == 1


def test_resend_sends_the_failed_message_and_records_who_did_it(client, receptionist, patient):
    failed = add_message(
        patient, key="k-failed", status=MessageStatus.FAILED, attempts=5, last_error="SMTP 451"
    )
    client.force_login(receptionist)

    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        response = client.post(
            reverse("clinic:outbox_resend", args=[failed.pk]),
            {"next": f"{OUTBOX}?status=failed"},
            follow=True,
        )

    assert response.redirect_chain[-1][0] == f"{OUTBOX}?status=failed"
    assert "queued to be sent again" in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == MessageStatus.SENT
    assert failed.attempts == 1
    assert [message.to for message in mail.outbox] == [[patient.email]]
    entry = AuditEntry.objects.get(object_type="clinic.outboundmessage")
    assert entry.actor_username == receptionist.username
    assert entry.patient_id == patient.pk


def test_resending_a_message_that_already_went_explains_why_not(client, receptionist, patient):
    sent = add_message(patient, key="k-sent")
    client.force_login(receptionist)

    response = client.post(reverse("clinic:outbox_resend", args=[sent.pk]), follow=True)

    assert "Only a failed message can be sent again; this one is sent." in (
        response.content.decode()
    )
    assert mail.outbox == []


def test_resend_never_redirects_off_site(client, receptionist, patient):
    failed = add_message(patient, key="k-failed", status=MessageStatus.FAILED)
    client.force_login(receptionist)

    response = client.post(
        reverse("clinic:outbox_resend", args=[failed.pk]), {"next": "https://evil.example/"}
    )

    assert response["Location"] == OUTBOX


def test_resend_is_a_post(client, receptionist, patient):
    failed = add_message(patient, key="k-failed", status=MessageStatus.FAILED)
    client.force_login(receptionist)
    assert client.get(reverse("clinic:outbox_resend", args=[failed.pk])).status_code == 405


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": MessageKind.AFTERCARE}, ["Aftercare"]),
        ({"status": MessageStatus.FAILED}, ["Your appointment is booked"]),
        ({"patient": "liam walsh"}, ["Your appointment is booked"]),
        ({"patient": "zoe@patients"}, ["Aftercare", "Reminder: your appointment tomorrow"]),
        (
            {"date_from": "2026-06-08", "date_to": "2026-06-08"},
            ["Aftercare", "Reminder: your appointment tomorrow"],
        ),
        ({"date_to": "2026-06-06"}, ["Your appointment is booked"]),
    ],
)
def test_filters_narrow_the_list(client, receptionist, patient, opted_out_patient, query, expected):
    add_message(patient, key="a", subject="Reminder: your appointment tomorrow", due_at=NOW)
    add_message(
        patient,
        key="b",
        kind=MessageKind.AFTERCARE,
        subject="Aftercare",
        due_at=NOW + dt.timedelta(hours=1),
    )
    add_message(
        opted_out_patient,
        key="c",
        kind=MessageKind.BOOKING_CONFIRMATION,
        subject="Your appointment is booked",
        status=MessageStatus.FAILED,
        due_at=NOW - dt.timedelta(days=3),
    )
    client.force_login(receptionist)

    response = client.get(OUTBOX, query)

    subjects = [message.subject for message in response.context["page"].object_list]
    assert sorted(subjects) == sorted(expected)


def test_the_patient_number_filter_links_from_a_patient_page(client, receptionist, patient):
    add_message(patient, key="mine")
    other = PatientFactory()
    add_message(other, key="theirs", subject="Someone else's reminder")
    client.force_login(receptionist)

    response = client.get(OUTBOX, {"patient": str(patient.pk)})

    assert [message.idempotency_key for message in response.context["page"].object_list] == ["mine"]


def test_a_wrong_date_range_is_explained_not_a_crash(client, receptionist, patient):
    add_message(patient, key="a")
    client.force_login(receptionist)

    response = client.get(OUTBOX, {"date_from": "2026-06-10", "date_to": "2026-06-01"})

    assert response.status_code == 200
    assert "The end date must be on or after the start date." in response.content.decode()
    assert 'value="2026-06-10"' in response.content.decode()


def test_the_outbox_pages_fifty_at_a_time(client, receptionist, patient):
    for number in range(51):
        add_message(patient, key=f"k{number}", due_at=NOW + dt.timedelta(minutes=number))
    client.force_login(receptionist)

    first = client.get(OUTBOX)
    second = client.get(OUTBOX, {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert [m.idempotency_key for m in second.context["page"].object_list] == ["k0"]
    assert "Page 1 of 2" in first.content.decode()


def test_the_outbox_runs_the_same_queries_for_10_or_40_messages(
    client, receptionist, django_assert_num_queries
):
    client.force_login(receptionist)
    for number in range(10):
        add_message(PatientFactory(), key=f"a{number}")
    client.get(OUTBOX)  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as ten:
        client.get(OUTBOX)
    for number in range(30):
        add_message(PatientFactory(), key=f"b{number}")

    with django_assert_num_queries(len(ten.captured_queries)):
        response = client.get(OUTBOX)
    assert len(response.context["page"].object_list) == 40


def test_the_detail_page_shows_the_email_as_sent_and_why_a_skip_happened(
    client, receptionist, opted_out_patient
):
    skipped, _ = messaging.message_record(
        kind=MessageKind.APPOINTMENT_REMINDER,
        idempotency_key="skip",
        patient=opted_out_patient,
        recipient=opted_out_patient.email,
        about=opted_out_patient,
        rendered=None,
        due_at=NOW,
        skip_reason="The patient has not consented to email reminders.",
    )
    sent = add_message(opted_out_patient, key="sent", kind=MessageKind.BOOKING_CONFIRMATION)
    client.force_login(receptionist)

    skipped_page = client.get(reverse("clinic:outbox_detail", args=[skipped.pk]))
    sent_page = client.get(reverse("clinic:outbox_detail", args=[sent.pk]))

    assert "The patient has not consented to email reminders." in skipped_page.content.decode()
    assert "Dear Liam" in sent_page.content.decode()
