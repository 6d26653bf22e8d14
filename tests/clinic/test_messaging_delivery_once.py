"""Each email goes once even when the SMTP server is slow and senders overlap; the one window
left (a sender killed after the server accepted a message, before it was marked sent) costs
at most that one message, sent again after its lease with the same Message-ID."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from clinic import emails, messaging
from clinic.models import MessageKind, MessageStatus, OutboundMessage
from tests.smtp_sink import running_sink, smtp_settings

pytestmark = pytest.mark.django_db(transaction=True)


def record(patient: Any, number: int) -> OutboundMessage:
    message, _ = messaging.message_record(
        kind=MessageKind.APPOINTMENT_REMINDER,
        idempotency_key=f"reminder:2h:appointment:{number}:x",
        patient=patient,
        recipient=f"patient{number}@patients.example",
        about=patient,
        rendered=emails.RenderedEmail(
            subject=f"Reminder {number}", text="See you soon.\n", html="<p>See you soon.</p>"
        ),
        due_at=timezone.now(),
    )
    return message


def keep_sending_until_nothing_is_left(*, deadline: float, errors: list[BaseException]) -> None:
    """One sender (a worker, or the dispatcher's next batch): send whatever is due, again and
    again, as a worker fed by the sweeps would."""
    try:
        while time.monotonic() < deadline:
            if not OutboundMessage.objects.exclude(status=MessageStatus.SENT).exists():
                return
            due = messaging.due_message_ids(now=timezone.now())
            if due:
                messaging.messages_send(message_ids=due)
            else:
                time.sleep(0.05)
    except BaseException as error:  # shown by the test, not lost in the thread
        errors.append(error)
    finally:
        connection.close()


def test_two_senders_on_a_slow_smtp_server_with_a_short_lease_deliver_each_message_once(
    patient, settings
):
    # Sending the batch (10 x 0.3 s) outlasts the 1 s lease many times over.
    settings.MESSAGE_LEASE_SECONDS = 1
    with running_sink() as sink:
        smtp_settings(settings, sink)
        sink.answer_after(0.3)
        for number in range(1, 11):
            record(patient, number)
        errors: list[BaseException] = []
        deadline = time.monotonic() + 20
        senders = [
            threading.Thread(
                target=keep_sending_until_nothing_is_left,
                kwargs={"deadline": deadline, "errors": errors},
            )
            for _ in range(2)
        ]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=30)
        delivered = Counter(str(message["Subject"]) for message in sink.messages)

    assert errors == []
    assert delivered == {f"Reminder {number}": 1 for number in range(1, 11)}
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert set(OutboundMessage.objects.values_list("attempts", flat=True)) == {1}


class SenderKilled(BaseException):
    """Stands for kill -9: nothing after it runs, not even an ``except Exception``."""


def test_a_sender_killed_between_acceptance_and_the_sent_mark_doubles_only_that_message(
    patient, settings, monkeypatch
):
    settings.MESSAGE_LEASE_SECONDS = 1
    with running_sink() as sink:
        smtp_settings(settings, sink)
        messages = [record(patient, number) for number in range(1, 4)]
        ids = [message.pk for message in messages]

        def killed_before_marking(message_id: int) -> None:
            raise SenderKilled

        with monkeypatch.context() as patched:
            patched.setattr(messaging, "_mark_sent", killed_before_marking)
            with pytest.raises(SenderKilled):
                messaging.messages_send(message_ids=ids)

        # The server has the first message; the rest of the batch was never taken, so
        # another sender sends it at once instead of waiting for a lease to run out.
        assert [str(message["Subject"]) for message in sink.messages] == ["Reminder 1"]
        outcomes = messaging.messages_send(message_ids=ids)
        assert [outcome.status for outcome in outcomes] == ["busy", "sent", "sent"]

        # The killed sender's message stays with it for its lease, then goes again.
        time.sleep(1.1)
        assert messaging.due_message_ids(now=timezone.now()) == [ids[0]]
        assert messaging.message_send(message_id=ids[0]).status == MessageStatus.SENT
        delivered = sink.messages

    assert Counter(str(message["Subject"]) for message in delivered) == {
        "Reminder 1": 2,
        "Reminder 2": 1,
        "Reminder 3": 1,
    }
    first_copies = [message for message in delivered if message["Subject"] == "Reminder 1"]
    assert {message["Message-ID"] for message in first_copies} == {
        emails.message_id_for(messages[0].idempotency_key)
    }
