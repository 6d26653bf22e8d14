"""Sending in batches: one task and one SMTP session for many messages, each still claimed
on its own (so leases, retries and "sent once" hold message by message)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from clinic import emails, messaging
from clinic.models import MessageKind, MessageStatus, OutboundMessage
from clinic.tasks import SEND_BATCH_SIZE, dispatch_due_messages, send_message
from tests.smtp_sink import running_sink, smtp_settings

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 8, 9, 0, tzinfo=dt.UTC)


def record(patient: Any, number: int, *, recipient: str = "", due_at: dt.datetime = NOW) -> Any:
    message, _ = messaging.message_record(
        kind=MessageKind.APPOINTMENT_REMINDER,
        idempotency_key=f"reminder:48h:appointment:{number}:x",
        patient=patient,
        recipient=recipient or f"patient{number}@patients.example",
        about=patient,
        rendered=emails.RenderedEmail(
            subject=f"Reminder {number}", text="See you soon.\n", html="<p>See you soon.</p>"
        ),
        due_at=due_at,
    )
    return message


def test_a_batch_goes_over_one_smtp_session_and_every_message_is_marked_sent(patient, settings):
    with running_sink() as sink:
        smtp_settings(settings, sink)
        ids = [record(patient, number).pk for number in range(1, 6)]
        with time_machine.travel(NOW, tick=False):
            statuses = send_message.delay(*ids).get()

    assert statuses == "sent,sent,sent,sent,sent"
    assert sorted(str(message["Subject"]) for message in sink.messages) == [
        f"Reminder {number}" for number in range(1, 6)
    ]
    assert sink.session_count == 1
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert set(OutboundMessage.objects.values_list("attempts", flat=True)) == {1}


def test_a_recipient_refused_in_a_batch_fails_alone_and_the_others_are_sent(patient, settings):
    with running_sink() as sink:
        smtp_settings(settings, sink)
        sink.refuse_recipient("gone@patients.example")
        first = record(patient, 1)
        refused = record(patient, 2, recipient="gone@patients.example")
        third = record(patient, 3)
        with time_machine.travel(NOW, tick=False):
            outcomes = messaging.messages_send(message_ids=[first.pk, refused.pk, third.pk])

    assert [outcome.status for outcome in outcomes] == ["sent", "failed", "sent"]
    assert [outcome.message_id for outcome in outcomes] == [first.pk, refused.pk, third.pk]
    assert sorted(str(message["Subject"]) for message in sink.messages) == [
        "Reminder 1",
        "Reminder 3",
    ]
    refused.refresh_from_db()
    assert refused.status == MessageStatus.FAILED
    assert "550" in refused.last_error


def test_a_busy_smtp_server_puts_only_the_refused_message_back_for_a_retry(patient, settings):
    with running_sink() as sink:
        smtp_settings(settings, sink)
        sink.refuse_next(1)
        messages = [record(patient, number) for number in range(1, 4)]
        with time_machine.travel(NOW, tick=False):
            outcomes = messaging.messages_send(message_ids=[message.pk for message in messages])

    assert [outcome.status for outcome in outcomes] == ["retry", "sent", "sent"]
    messages[0].refresh_from_db()
    assert messages[0].status == MessageStatus.PENDING
    assert messages[0].due_at > NOW
    assert len(sink.messages) == 2


def test_a_batch_leaves_alone_what_another_worker_holds_what_is_not_due_and_what_went(
    patient, mailoutbox
):
    held = record(patient, 1)
    later = record(patient, 2, due_at=NOW + dt.timedelta(hours=1))
    sent = record(patient, 3)
    free = record(patient, 4)
    messaging.message_claim(message_id=held.pk, now=NOW)  # another worker is sending it
    with time_machine.travel(NOW, tick=False):
        messaging.message_send(message_id=sent.pk)
        outcomes = messaging.messages_send(
            message_ids=[held.pk, later.pk, sent.pk, free.pk, free.pk]
        )

    assert [outcome.status for outcome in outcomes] == ["busy", "busy", "busy", "sent"]
    assert [message.subject for message in mailoutbox] == ["Reminder 3", "Reminder 4"]
    held.refresh_from_db()
    later.refresh_from_db()
    assert (held.status, held.attempts) == (MessageStatus.SENDING, 1)
    assert (later.status, later.attempts) == (MessageStatus.PENDING, 0)


def test_due_messages_are_queued_in_batches_each_sent_over_its_own_session(patient, settings):
    count = SEND_BATCH_SIZE * 2 + 3
    with running_sink() as sink:
        smtp_settings(settings, sink)
        for number in range(1, count + 1):
            record(patient, number)
        with time_machine.travel(NOW, tick=False):
            queued = dispatch_due_messages.delay().get()

    assert queued == count
    assert len(sink.messages) == count
    assert sink.session_count == 3
    assert OutboundMessage.objects.filter(status=MessageStatus.SENT).count() == count
