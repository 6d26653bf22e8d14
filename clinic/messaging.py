"""Services on the outbound-message ledger: record, claim, send, retry, fail, resend.

The ledger (:class:`clinic.models.OutboundMessage`) is what makes email exactly-once in
practice:

* **Record before send.** A caller renders the email and records it under an idempotency key
  (``reminder:48h:appointment:12:2026-03-30T09:00:00+00:00``). The key is unique in the
  database, so a second sweep, a second beat or a retried task finds the row already there
  and creates nothing.
* **Claim with a lease, one message at a time.** Just before a message goes, one atomic
  ``UPDATE ... WHERE status='pending' AND due_at <= now`` (or ``status='sending'`` with an
  expired lease) sets ``sending``. Only one sender's UPDATE can match, so two senders never
  both send a row. A batch claims each message only when its turn comes, so a lease covers
  one SMTP exchange (settings make it outlast the slowest one) and runs out only when its
  sender died, never while a slow server keeps the rest of a batch waiting.
* **Sent as soon as the server accepts it.** Each message is marked ``sent`` in its own
  commit right after the SMTP server's "250 accepted".
* **Retry with backoff.** SMTP errors put the row back to ``pending`` with a later ``due_at``
  (1, 2, 4 ... minutes, capped); after ``MESSAGE_MAX_ATTEMPTS`` it is ``failed`` and shows on
  the outbox with a resend button. A worker killed mid-send leaves the row ``sending``; once
  its lease runs out the next sweep claims it again.

The one window left is a sender killed after the SMTP server accepted a message but before
the "sent" mark committed (the server's reply in flight plus one UPDATE: milliseconds per
message): that one message goes again after its lease, with the same Message-ID, so mail
programs can drop the repeat. A killed sender doubles at most the one message it was sending.

This module knows nothing about appointments (``clinic`` imports neither ``bookings`` nor
``treatments``); callers pass what a message is about as any model instance.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import get_connection
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from clinic import audit, emails
from clinic.errors import DomainError
from clinic.models import AuditAction, MessageStatus, OutboundMessage, Patient

logger = logging.getLogger(__name__)

# Logs carry ids, never patient data: an SMTP reply often quotes the recipient's address.
_ADDRESS = re.compile(r"[^\s<>()\[\];:,\"']+@[^\s<>()\[\];:,\"']+")


def _loggable(text: str) -> str:
    return _ADDRESS.sub("<address>", text)


MAX_RETRY_DELAY = dt.timedelta(hours=1)


class MessageNotResendable(DomainError):
    """Only a failed message can be sent again; ``message`` says why this one cannot."""

    code = "message_not_resendable"


@dataclass(frozen=True)
class SendOutcome:
    """What one call of :func:`message_send` did: ``sent``, ``retry``, ``failed`` or ``busy``."""

    status: str
    message_id: int
    error: str = ""


def retry_delay(*, attempts: int, base_seconds: int) -> dt.timedelta:
    """Exponential backoff after ``attempts`` failed tries: base, 2x, 4x ..., at most an hour."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    seconds = base_seconds * 2 ** min(attempts - 1, 16)
    return min(dt.timedelta(seconds=seconds), MAX_RETRY_DELAY)


def message_record(
    *,
    kind: str,
    idempotency_key: str,
    patient: Patient | None,
    recipient: str,
    about: models.Model | None,
    rendered: emails.RenderedEmail | None,
    due_at: dt.datetime,
    skip_reason: str = "",
) -> tuple[OutboundMessage, bool]:
    """Record one message, or find the one already recorded under ``idempotency_key``.

    Returns ``(message, created)``. A ``skip_reason`` records the message as ``skipped`` (the
    patient opted out, has no address ...), so staff can see why nothing was sent. The unique
    key is the guard against doubles: ``get_or_create`` runs the INSERT in a savepoint and, if a
    racing transaction inserted the same key first, reads that row instead.
    """
    if not skip_reason and rendered is None:
        raise ValueError("A message that is to be sent needs its rendered email.")
    defaults = {
        "kind": kind,
        "patient": patient,
        "recipient": recipient,
        "content_type": ContentType.objects.get_for_model(about) if about is not None else None,
        "object_id": about.pk if about is not None else None,
        "due_at": due_at,
        "status": MessageStatus.SKIPPED if skip_reason else MessageStatus.PENDING,
        "skip_reason": skip_reason[:300],
    }
    if rendered is not None:
        defaults.update(
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            headers=rendered.headers,
            attachments=[attachment.as_dict() for attachment in rendered.attachments],
        )
    with transaction.atomic():
        return OutboundMessage.objects.get_or_create(
            idempotency_key=idempotency_key, defaults=defaults
        )


def _claim(*, message_id: int, now: dt.datetime) -> bool:
    """One atomic UPDATE: ``True`` if this call took the message (see :func:`message_claim`)."""
    lease_until = now + dt.timedelta(seconds=settings.MESSAGE_LEASE_SECONDS)
    claimable = Q(status=MessageStatus.PENDING, due_at__lte=now) | Q(
        status=MessageStatus.SENDING, lease_until__lt=now
    )
    claimed = OutboundMessage.objects.filter(claimable, pk=message_id).update(
        status=MessageStatus.SENDING, lease_until=lease_until, attempts=F("attempts") + 1
    )
    return bool(claimed)


def message_claim(*, message_id: int, now: dt.datetime) -> OutboundMessage | None:
    """Take a due message for sending, or ``None`` if it is not due or someone else has it.

    One UPDATE decides: on PostgreSQL a second worker's UPDATE waits for the first's row lock
    and then re-checks the WHERE clause, which no longer matches; on SQLite writes are
    serialised. The lease lets a message stuck in ``sending`` (its worker died) be claimed
    again once it runs out.
    """
    if not _claim(message_id=message_id, now=now):
        return None
    return OutboundMessage.objects.get(pk=message_id)


def message_send(*, message_id: int, now: dt.datetime | None = None) -> SendOutcome:
    """Claim one message and send it: ``sent``, back to ``pending`` with backoff, or ``failed``.

    Safe to call any number of times for the same id (a retried or duplicated task): a message
    that is sent, skipped, failed, not yet due or leased by another worker is left alone.
    """
    (outcome,) = messages_send(message_ids=[message_id], now=now)
    return outcome


def messages_send(
    *, message_ids: Iterable[int], now: dt.datetime | None = None
) -> list[SendOutcome]:
    """Send several messages over one SMTP connection, each claimed just before it goes; an
    outcome per id, in order.

    Invariant: a message is sent by one sender at a time. Each message is claimed by its own
    atomic UPDATE (exactly as :func:`message_send` claims one) only when its turn comes, so its
    lease covers that one SMTP exchange, never the wait behind the rest of a slow batch: a
    lease runs out only when its sender died. Ids another sender took meanwhile, or that are
    not due, come back ``busy``. Each message is marked ``sent`` in its own commit as soon as
    the server accepted it. After a failure the connection is closed and the next message
    opens a fresh one, so one refused recipient or dropped session costs only that message a
    retry. Call it outside a transaction (tasks do), or the marks commit only at its end.
    """
    ids = list(dict.fromkeys(message_ids))
    outcomes: dict[int, SendOutcome] = {}
    connection = None
    try:
        for message_id in ids:
            message = message_claim(message_id=message_id, now=now or timezone.now())
            if message is None:
                outcomes[message_id] = SendOutcome("busy", message_id)
                continue
            if connection is None:
                connection = get_connection(fail_silently=False)
            outcome = _send_claimed(message, connection)
            outcomes[message_id] = outcome
            if outcome.status != MessageStatus.SENT:
                _close_quietly(connection)
                connection = None
    finally:
        if connection is not None:
            _close_quietly(connection)
    return [outcomes[message_id] for message_id in ids]


def _send_claimed(message: OutboundMessage, connection: Any) -> SendOutcome:
    try:
        connection.open()  # no-op when already open
        emails.deliver(
            to=message.recipient,
            subject=message.subject,
            text=message.body_text,
            html=message.body_html,
            headers=message.headers,
            attachments=message.attachments,
            idempotency_key=message.idempotency_key,
            connection=connection,
        )
    except Exception as error:  # any transport error: classified, recorded, retried or failed
        return _record_failure(message, error, now=timezone.now())
    _mark_sent(message.pk)
    logger.info("Sent %s message %s", message.kind, message.pk)
    return SendOutcome(MessageStatus.SENT, message.pk)


def _mark_sent(message_id: int) -> None:
    """The server accepted the message. A sender killed before this UPDATE commits is the one
    window left: the message goes again once its lease runs out (README, "Patient emails")."""
    OutboundMessage.objects.filter(pk=message_id).update(
        status=MessageStatus.SENT, sent_at=timezone.now(), lease_until=None, last_error=""
    )


def _close_quietly(connection: Any) -> None:
    """Close an SMTP session that may already be broken (its error was recorded)."""
    try:
        connection.close()
    except Exception as error:  # the session was already unusable; nothing more to record
        logger.info("Closing the SMTP connection failed: %s", type(error).__name__)


def _record_failure(message: OutboundMessage, error: Exception, *, now: dt.datetime) -> SendOutcome:
    description = emails.describe_failure(error)
    permanent = emails.failure_is_permanent(error)
    if permanent or message.attempts >= settings.MESSAGE_MAX_ATTEMPTS:
        OutboundMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
            status=MessageStatus.FAILED, lease_until=None, last_error=description
        )
        logger.warning(
            "Giving up on %s message %s after %s attempt(s): %s",
            message.kind,
            message.pk,
            message.attempts,
            _loggable(description),
        )
        return SendOutcome(MessageStatus.FAILED, message.pk, description)
    next_try = now + retry_delay(
        attempts=message.attempts, base_seconds=settings.MESSAGE_RETRY_BASE_SECONDS
    )
    OutboundMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
        status=MessageStatus.PENDING, due_at=next_try, lease_until=None, last_error=description
    )
    logger.info(
        "Sending %s message %s failed (attempt %s), retrying at %s: %s",
        message.kind,
        message.pk,
        message.attempts,
        next_try.isoformat(),
        _loggable(description),
    )
    return SendOutcome("retry", message.pk, description)


def message_resend(*, message_id: int, now: dt.datetime | None = None) -> OutboundMessage:
    """Queue a failed message again, to the patient's current address, with fresh attempts.

    Only ``failed`` messages qualify: a sent one went already, a pending one is queued, and a
    skipped one was withheld on purpose (opted out). The conditional UPDATE makes a double
    click queue it once. The audit entry (who resent what, to whom) commits with the change.
    The caller hands the id to a worker once this returns.
    """
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        message = (
            OutboundMessage.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            raise MessageNotResendable("That message no longer exists.")
        if message.status != MessageStatus.FAILED:
            raise MessageNotResendable(
                f"Only a failed message can be sent again; this one is "
                f"{message.get_status_display().lower()}."
            )
        patient = message.patient
        if patient is not None and getattr(patient, "erased_at", None) is not None:
            raise MessageNotResendable("The patient's record was erased; nothing is sent to it.")
        recipient = patient.email if patient is not None and patient.email else message.recipient
        OutboundMessage.objects.filter(pk=message.pk, status=MessageStatus.FAILED).update(
            status=MessageStatus.PENDING,
            attempts=0,
            due_at=now,
            lease_until=None,
            recipient=recipient,
        )
        message.refresh_from_db()
        audit.record(
            action=AuditAction.CHANGE,
            obj=message,
            patient_id=message.patient_id,
            before={"status": MessageStatus.FAILED},
            after={"status": message.status, "recipient": message.recipient},
            detail=f"Resent {message.get_kind_display().lower()} to {message.recipient}",
        )
    return message


def messages_skip_pending(
    *,
    about: models.Model,
    kinds: Iterable[str],
    reason: str,
    keep_keys: Iterable[str] = (),
) -> int:
    """Skip messages about ``about`` that have not gone yet (the appointment moved or was
    cancelled). A message already ``sending`` is left to finish: it cannot be called back."""
    return (
        OutboundMessage.objects.filter(
            content_type=ContentType.objects.get_for_model(about),
            object_id=about.pk,
            kind__in=list(kinds),
            status=MessageStatus.PENDING,
        )
        .exclude(idempotency_key__in=list(keep_keys))
        .update(status=MessageStatus.SKIPPED, skip_reason=reason[:300], lease_until=None)
    )


def due_message_ids(*, now: dt.datetime, limit: int = 500) -> list[int]:
    """Messages a sweep should hand to workers: pending and due, or stuck past their lease."""
    return list(
        OutboundMessage.objects.filter(
            Q(status=MessageStatus.PENDING, due_at__lte=now)
            | Q(status=MessageStatus.SENDING, lease_until__lt=now)
        )
        .order_by("due_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def pending_ids_for_keys(keys: Iterable[str]) -> list[int]:
    """The ids of the given messages that are waiting to be sent (after a sweep recorded them)."""
    return list(
        OutboundMessage.objects.filter(
            idempotency_key__in=list(keys), status=MessageStatus.PENDING
        ).values_list("pk", flat=True)
    )


def messages_about(about: models.Model) -> models.QuerySet[OutboundMessage]:
    """Every message about one object (an appointment, a series), newest first."""
    return OutboundMessage.objects.filter(
        content_type=ContentType.objects.get_for_model(about), object_id=about.pk
    ).order_by("-due_at", "-id")
