"""The outbound-message ledger: recorded once, claimed once, retried with backoff, failed,
resent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core import mail

from clinic import emails, messaging
from clinic.models import AuditEntry, MessageKind, MessageStatus, OutboundMessage
from clinic.tasks import dispatch_due_messages, send_message
from tests.smtp_sink import free_port, running_sink, smtp_settings

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 8, 9, 0, tzinfo=dt.UTC)


def rendered(subject: str = "Reminder: your appointment") -> emails.RenderedEmail:
    return emails.RenderedEmail(
        subject=subject,
        text="Dear Zoë,\n\nSee you soon.\n",
        html="<p>Dear Zoë,</p><p>See you soon.</p>",
    )


def record(patient: Any, key: str = "reminder:48h:appointment:1:x", **extra: Any) -> Any:
    message, created = messaging.message_record(
        kind=extra.pop("kind", MessageKind.APPOINTMENT_REMINDER),
        idempotency_key=key,
        patient=patient,
        recipient=patient.email,
        about=patient,
        rendered=extra.pop("rendered", rendered()),
        due_at=extra.pop("due_at", NOW),
        **extra,
    )
    return message, created


def test_a_second_record_with_the_same_key_creates_nothing(patient):
    first, created = record(patient)
    again, created_again = record(patient, rendered=rendered("Something else"))

    assert created is True
    assert created_again is False
    assert again.pk == first.pk
    assert again.subject == "Reminder: your appointment"
    assert OutboundMessage.objects.count() == 1


def test_a_message_to_be_sent_must_be_rendered(patient):
    with pytest.raises(ValueError, match="rendered email"):
        record(patient, rendered=None)


def test_sending_marks_the_message_sent_and_a_second_send_does_nothing(patient):
    message, _ = record(patient)
    with time_machine.travel(NOW, tick=False):
        first = messaging.message_send(message_id=message.pk)
        second = messaging.message_send(message_id=message.pk)

    assert first.status == MessageStatus.SENT
    assert second.status == "busy"
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.sent_at == NOW
    assert message.attempts == 1


def test_a_message_is_not_sent_before_it_is_due(patient):
    message, _ = record(patient, due_at=NOW + dt.timedelta(minutes=5))
    with time_machine.travel(NOW, tick=False):
        outcome = messaging.message_send(message_id=message.pk)
    assert outcome.status == "busy"
    assert mail.outbox == []


def test_the_email_carries_a_message_id_that_is_the_same_on_every_attempt(patient):
    message, _ = record(patient)
    with time_machine.travel(NOW, tick=False):
        send_message.delay(message.pk)

    [sent] = mail.outbox
    assert sent.extra_headers["Message-ID"] == emails.message_id_for(message.idempotency_key)
    assert sent.extra_headers["Message-ID"].endswith("@clinic.example>")
    assert sent.reply_to == ["reception@clinic.example"]


def test_only_one_of_two_workers_claims_a_message(patient):
    message, _ = record(patient)
    first = messaging.message_claim(message_id=message.pk, now=NOW)
    second = messaging.message_claim(message_id=message.pk, now=NOW)

    assert first is not None
    assert first.status == MessageStatus.SENDING
    assert second is None


def test_a_message_stuck_in_sending_past_its_lease_is_claimed_again(patient, settings):
    settings.MESSAGE_LEASE_SECONDS = 300
    message, _ = record(patient)
    messaging.message_claim(message_id=message.pk, now=NOW)  # the worker then died

    within = NOW + dt.timedelta(seconds=299)
    after = NOW + dt.timedelta(seconds=301)
    assert messaging.due_message_ids(now=within) == []
    assert messaging.message_claim(message_id=message.pk, now=within) is None
    assert messaging.due_message_ids(now=after) == [message.pk]
    with time_machine.travel(after, tick=False):
        assert messaging.message_send(message_id=message.pk).status == MessageStatus.SENT
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [(1, 60), (2, 120), (3, 240), (4, 480), (5, 600), (7, 600), (30, 600)],
)
def test_retries_back_off_exponentially_up_to_the_cap(attempts, expected):
    delay = messaging.retry_delay(attempts=attempts, base_seconds=60, max_seconds=600)
    assert delay == dt.timedelta(seconds=expected)


def test_an_smtp_server_that_is_down_means_retry_until_the_message_is_no_longer_useful(
    patient, settings
):
    settings.MESSAGE_RETRY_BASE_SECONDS = 60
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    settings.EMAIL_TIMEOUT = 2
    message, _ = record(patient)
    # Worth sending for five minutes (its appointment starts then, say).
    OutboundMessage.objects.filter(pk=message.pk).update(useful_until=NOW + dt.timedelta(minutes=5))

    moments = [NOW, NOW + dt.timedelta(seconds=60), NOW + dt.timedelta(seconds=180)]
    outcomes = []
    for moment in moments:
        with time_machine.travel(moment, tick=False):
            outcomes.append(messaging.message_send(message_id=message.pk))
            message.refresh_from_db()
            if message.status == MessageStatus.PENDING:
                outcomes.append(("next try", message.due_at - moment))

    assert [getattr(outcome, "status", outcome) for outcome in outcomes] == [
        "retry",
        ("next try", dt.timedelta(seconds=60)),
        "retry",
        ("next try", dt.timedelta(seconds=120)),
        MessageStatus.EXPIRED,  # the next try (minute 7) would come after minute 5
    ]
    assert message.status == MessageStatus.EXPIRED
    assert message.attempts == 3
    assert "ConnectionRefusedError" in message.last_error


def test_a_recipient_refused_for_good_fails_at_once(patient, settings):
    with running_sink() as sink:
        smtp_settings(settings, sink)
        sink.refuse_recipient(patient.email)
        message, _ = record(patient)
        with time_machine.travel(NOW, tick=False):
            outcome = messaging.message_send(message_id=message.pk)

    assert outcome.status == MessageStatus.FAILED
    message.refresh_from_db()
    assert message.attempts == 1
    assert message.last_error.startswith("Recipient refused")
    assert "550" in message.last_error


def test_resending_a_failed_message_queues_it_to_the_patients_current_address(patient):
    message, _ = record(patient)
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.FAILED, attempts=5, last_error="SMTP 451: busy"
    )
    patient.email = "zoe.new@patients.example"
    patient.save()

    with time_machine.travel(NOW + dt.timedelta(hours=3), tick=False):
        queued = messaging.message_resend(message_id=message.pk)
        dispatch_due_messages.delay()

    assert queued.status == MessageStatus.PENDING
    assert queued.attempts == 0
    assert queued.recipient == "zoe.new@patients.example"
    [sent] = mail.outbox
    assert sent.to == ["zoe.new@patients.example"]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_the_resend_service_itself_audits_who_resent_what_whatever_page_asked(patient):
    message, _ = record(patient)
    OutboundMessage.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED)

    with time_machine.travel(NOW, tick=False):
        messaging.message_resend(message_id=message.pk)

    entry = AuditEntry.objects.get(object_type="clinic.outboundmessage")
    assert entry.patient_id == patient.pk
    assert entry.detail.startswith("Resent ")


def test_a_failed_message_no_longer_worth_sending_is_not_resent(patient):
    message, _ = record(patient)
    OutboundMessage.objects.filter(pk=message.pk).update(
        status=MessageStatus.FAILED, useful_until=NOW + dt.timedelta(hours=2)
    )

    with (
        time_machine.travel(NOW + dt.timedelta(hours=2), tick=False),
        pytest.raises(messaging.MessageNotResendable, match="too late to send this"),
    ):
        messaging.message_resend(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert not AuditEntry.objects.filter(object_type="clinic.outboundmessage").exists()


@pytest.mark.parametrize(
    "status",
    [MessageStatus.SENT, MessageStatus.PENDING, MessageStatus.SKIPPED, MessageStatus.EXPIRED],
)
def test_only_a_failed_message_can_be_resent(patient, status):
    message, _ = record(patient)
    OutboundMessage.objects.filter(pk=message.pk).update(status=status)

    with pytest.raises(messaging.MessageNotResendable, match="Only a failed message"):
        messaging.message_resend(message_id=message.pk)


def test_skipped_messages_record_why_and_are_never_sent(patient):
    message, _ = record(patient, rendered=None, skip_reason="The patient opted out.")
    with time_machine.travel(NOW, tick=False):
        dispatch_due_messages.delay()
        outcome = messaging.message_send(message_id=message.pk)

    assert message.status == MessageStatus.SKIPPED
    assert message.skip_reason == "The patient opted out."
    assert outcome.status == "busy"
    assert mail.outbox == []


def test_dispatch_hands_due_messages_to_the_workers_oldest_first(patient):
    later, _ = record(patient, key="b", due_at=NOW - dt.timedelta(minutes=1))
    earlier, _ = record(patient, key="a", due_at=NOW - dt.timedelta(minutes=5))
    record(patient, key="c", due_at=NOW + dt.timedelta(minutes=5))

    assert messaging.due_message_ids(now=NOW) == [earlier.pk, later.pk]
