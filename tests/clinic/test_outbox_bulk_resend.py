"""Bulk resend on the outbox: after an outage staff queue every failed email that is still
worth sending at once (asked first, each resend audited), not one click per message."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from clinic import emails, messaging
from clinic.models import AuditEntry, MessageKind, MessageStatus, OutboundMessage

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 8, 9, 0, tzinfo=dt.UTC)
BULK = reverse("clinic:outbox_resend_failed")


def failed_message(patient: Any, subject: str, *, useful_for: dt.timedelta) -> OutboundMessage:
    message, _ = messaging.message_record(
        kind=MessageKind.AFTERCARE,
        idempotency_key=f"aftercare:{subject}",
        patient=patient,
        recipient=patient.email,
        about=patient,
        rendered=emails.RenderedEmail(subject=subject, text="Dear Zoë\n", html=""),
        due_at=NOW,
    )
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.FAILED,
        attempts=3,
        last_error="Recipient refused: 550",
        useful_until=NOW + useful_for,
    )
    return message


def test_bulk_resend_asks_first_then_queues_every_failed_email_still_worth_sending_audited(
    client, receptionist, patient, mailoutbox
):
    first = failed_message(patient, "First", useful_for=dt.timedelta(days=3))
    second = failed_message(patient, "Second", useful_for=dt.timedelta(days=3))
    too_late = failed_message(patient, "Too late", useful_for=dt.timedelta(minutes=30))
    client.force_login(receptionist)

    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        outbox = client.get(reverse("clinic:outbox_list")).content.decode()
        asked = client.get(BULK).content.decode()
        assert OutboundMessage.objects.filter(status=MessageStatus.FAILED).count() == 3
        response = client.post(BULK, follow=True)

    assert f'href="{BULK}"' in outbox
    assert "2 failed emails will be queued again" in asked
    assert "1 failed email is no longer worth sending" in asked
    assert "Resend 2 emails" in asked
    assert response.redirect_chain == [(reverse("clinic:outbox_list"), 302)]
    page = response.content.decode()
    assert "2 emails queued again." in page
    assert "1 failed email was left alone" in page
    assert sorted(message.subject for message in mailoutbox) == ["First", "Second"]
    for message in (first, second):
        message.refresh_from_db()
        assert message.status == MessageStatus.SENT
    too_late.refresh_from_db()
    assert too_late.status == MessageStatus.FAILED
    entries = AuditEntry.objects.filter(object_type="clinic.outboundmessage")
    assert sorted(int(entry.object_id) for entry in entries) == sorted([first.pk, second.pk])
    assert {entry.actor_id for entry in entries} == {receptionist.pk}


def test_bulk_resend_with_nothing_failed_queues_nothing(client, receptionist, mailoutbox):
    client.force_login(receptionist)

    asked = client.get(BULK).content.decode()
    response = client.post(BULK, follow=True)

    assert "No failed email is still worth sending." in asked
    assert "0 emails queued again." in response.content.decode()
    assert mailoutbox == []
