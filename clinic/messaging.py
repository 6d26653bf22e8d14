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
* **Retry while it is worth sending.** Temporary SMTP errors (server down, 4xx) put the row
  back to ``pending`` with a later ``due_at`` (1, 2, 4 ... minutes, capped at
  ``MESSAGE_RETRY_MAX_SECONDS``), for as long as the message is useful: ``useful_until``,
  set when it is recorded by :func:`message_useful_until` (a reminder until its appointment
  starts, a confirmation for days). After that it is ``expired`` and never sent. A recipient
  refused for good (5xx) is ``failed`` at once and shows on the outbox with a resend button.
  A worker killed mid-send leaves the row ``sending``; once its lease runs out the next sweep
  claims it again.

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
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinic import audit, emails, formats
from clinic.errors import DomainError
from clinic.models import (
    AuditAction,
    MailServerState,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Patient,
)

logger = logging.getLogger(__name__)

# Logs carry ids, never patient data: an SMTP reply often quotes the recipient's address.
_ADDRESS = re.compile(r"[^\s<>()\[\];:,\"']+@[^\s<>()\[\];:,\"']+")


def _loggable(text: str) -> str:
    return _ADDRESS.sub("<address>", text)


# How long after it fell due each kind of message is still worth sending. One place: the
# ledger stores the result (``useful_until``) when the message is recorded.
USEFUL_FOR: dict[str, dt.timedelta] = {
    MessageKind.BOOKING_CONFIRMATION: dt.timedelta(days=3),
    MessageKind.BOOKING_RESCHEDULED: dt.timedelta(days=3),
    MessageKind.BOOKING_CANCELLED: dt.timedelta(days=3),
    MessageKind.CANCELLED_BY_CLINIC: dt.timedelta(days=7),  # its rebook link outlives the slot
    MessageKind.APPOINTMENT_REMINDER: dt.timedelta(days=3),
    MessageKind.AFTERCARE: dt.timedelta(days=7),
    MessageKind.SERIES_FOLLOWUP: dt.timedelta(days=7),
    MessageKind.MAINTENANCE_REMINDER: dt.timedelta(days=7),
}
DEFAULT_USEFUL_FOR = dt.timedelta(days=3)
# Kinds that say nothing worth reading once what they are about (an appointment) has started.
ENDS_AT_THE_START = frozenset(
    {
        MessageKind.APPOINTMENT_REMINDER,
        MessageKind.BOOKING_CONFIRMATION,
        MessageKind.BOOKING_RESCHEDULED,
        MessageKind.BOOKING_CANCELLED,
    }
)


def message_useful_until(*, kind: str, due_at: dt.datetime, about: object) -> dt.datetime:
    """Until when a message of ``kind`` about ``about`` is worth sending.

    ``USEFUL_FOR`` after it fell due and, for the kinds in ``ENDS_AT_THE_START``, no later than
    the start of what it is about (any object with a ``starts_at``: ``clinic`` does not import
    the appointment model)."""
    until = due_at + USEFUL_FOR.get(kind, DEFAULT_USEFUL_FOR)
    starts_at = getattr(about, "starts_at", None)
    if kind in ENDS_AT_THE_START and isinstance(starts_at, dt.datetime):
        until = min(until, starts_at)
    return until


class MessageNotResendable(DomainError):
    """Only a failed message can be sent again; ``message`` says why this one cannot."""

    code = "message_not_resendable"


@dataclass(frozen=True)
class SendOutcome:
    """What one call of :func:`message_send` did: ``sent``, ``retry``, ``failed``, ``expired``
    (no longer worth sending) or ``busy``."""

    status: str
    message_id: int
    error: str = ""


def retry_delay(*, attempts: int, base_seconds: int, max_seconds: int) -> dt.timedelta:
    """Exponential backoff after ``attempts`` failed tries: base, 2x, 4x ..., at most
    ``max_seconds`` (so a long outage is retried steadily, not once a day)."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    seconds = base_seconds * 2 ** min(attempts - 1, 16)
    return dt.timedelta(seconds=min(seconds, max_seconds))


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
        "useful_until": message_useful_until(kind=kind, due_at=due_at, about=about),
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
    still_useful = Q(useful_until__isnull=True) | Q(useful_until__gt=now)
    claimed = OutboundMessage.objects.filter(claimable, still_useful, pk=message_id).update(
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
    not due, come back ``busy``; those no longer worth sending are marked ``expired``. Each
    message is marked ``sent`` in its own commit as soon as the server accepted it. After a
    failure the connection is closed and the next message opens a fresh one, so one refused
    recipient or dropped session costs only that message a retry. Call it outside a
    transaction (tasks do), or the marks commit only at its end.
    """
    ids = list(dict.fromkeys(message_ids))
    outcomes: dict[int, SendOutcome] = {}
    connection = None
    server = _ServerReplies()
    try:
        for message_id in ids:
            moment = now or timezone.now()
            message = message_claim(message_id=message_id, now=moment)
            if message is None:
                expired = messages_expire(now=moment, message_ids=[message_id])
                outcomes[message_id] = SendOutcome(
                    MessageStatus.EXPIRED if expired else "busy", message_id
                )
                continue
            if connection is None:
                connection = get_connection(fail_silently=False)
            outcome = _send_claimed(message, connection)
            outcomes[message_id] = outcome
            # A recipient refused for good (``failed``) is an answer: the server is up.
            if outcome.status in (MessageStatus.SENT, MessageStatus.FAILED):
                server.answered(sent=outcome.status == MessageStatus.SENT)
            else:
                server.failures_since_answer += 1
            if outcome.status != MessageStatus.SENT:
                _close_quietly(connection)
                connection = None
    finally:
        if connection is not None:
            _close_quietly(connection)
    server.record(now=timezone.now())
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
    """A recipient refused for good is ``failed``; anything else is retried with backoff while
    the message is useful, and ``expired`` when the next try would come too late."""
    description = emails.describe_failure(error)
    if emails.failure_is_permanent(error):
        return _give_up(message, MessageStatus.FAILED, description)
    next_try = now + retry_delay(
        attempts=message.attempts,
        base_seconds=settings.MESSAGE_RETRY_BASE_SECONDS,
        max_seconds=settings.MESSAGE_RETRY_MAX_SECONDS,
    )
    if message.useful_until is not None and next_try >= message.useful_until:
        return _give_up(message, MessageStatus.EXPIRED, description)
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


def _give_up(message: OutboundMessage, status: str, description: str) -> SendOutcome:
    OutboundMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
        status=status, lease_until=None, last_error=description
    )
    logger.warning(
        "Giving up on %s message %s (%s) after %s attempt(s): %s",
        message.kind,
        message.pk,
        status,
        message.attempts,
        _loggable(description),
    )
    return SendOutcome(status, message.pk, description)


@dataclass
class _ServerReplies:
    """How the SMTP server answered during one batch, written to ``MailServerState`` once."""

    answered_at_all: bool = False
    sent_any: bool = False
    failures_since_answer: int = 0

    def answered(self, *, sent: bool) -> None:
        self.answered_at_all = True
        self.sent_any = self.sent_any or sent
        self.failures_since_answer = 0

    def record(self, *, now: dt.datetime) -> None:
        if not self.answered_at_all and not self.failures_since_answer:
            return
        MailServerState.objects.get_or_create(pk=1)
        state = MailServerState.objects.filter(pk=1)
        changes: dict[str, Any] = {}
        if self.sent_any:
            changes["last_accepted_at"] = now
        if self.failures_since_answer:
            changes["last_failure_at"] = now
        if self.answered_at_all:
            # The server answered: only the failures after its last answer are in a row.
            changes["consecutive_failures"] = self.failures_since_answer
            changes["failing_since"] = now if self.failures_since_answer else None
        else:
            changes["consecutive_failures"] = F("consecutive_failures") + self.failures_since_answer
            changes["failing_since"] = Coalesce(F("failing_since"), Value(now))
        state.update(**changes)


def messages_expire(*, now: dt.datetime, message_ids: Iterable[int] | None = None) -> int:
    """Mark ``expired`` the waiting messages that are no longer worth sending (all of them, or
    those of ``message_ids``); returns how many. A message ``sending`` past its lease (its
    sender died) expires too: it may or may not have gone, and it will not go again."""
    waiting = Q(status=MessageStatus.PENDING) | Q(status=MessageStatus.SENDING, lease_until__lt=now)
    too_late = OutboundMessage.objects.filter(waiting, useful_until__lte=now)
    if message_ids is not None:
        too_late = too_late.filter(pk__in=list(message_ids))
    expired = too_late.update(status=MessageStatus.EXPIRED, lease_until=None)
    if expired:
        logger.warning("%s message(s) expired unsent: no longer worth sending", expired)
    return expired


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
        if message.useful_until is not None and message.useful_until <= now:
            last_moment = formats.short_datetime(message.useful_until)
            raise MessageNotResendable(
                f"It is too late to send this {message.get_kind_display().lower()}: it was "
                f"worth sending until {last_moment}."
            )
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


@dataclass(frozen=True)
class BulkResend:
    """What :func:`messages_resend_failed` did: ids queued again, and what it left alone."""

    queued: list[int]
    too_late: int  # failed messages no longer worth sending
    refused: int  # erased patients, or resent by someone else meanwhile


def messages_resend_failed(*, now: dt.datetime | None = None) -> BulkResend:
    """Queue again every failed message that is still worth sending.

    Each goes through :func:`message_resend` (its own transaction and audit entry, the
    patient's current address), so a bulk resend holds exactly the rules of a single one; a
    message no longer useful is left failed. The caller hands ``queued`` to the workers.
    """
    now = now or timezone.now()
    failed = OutboundMessage.objects.filter(status=MessageStatus.FAILED)
    worth_sending = Q(useful_until__isnull=True) | Q(useful_until__gt=now)
    ids = list(failed.filter(worth_sending).order_by("due_at", "id").values_list("pk", flat=True))
    queued: list[int] = []
    refused = 0
    for message_id in ids:
        try:
            message_resend(message_id=message_id, now=now)
        except MessageNotResendable:
            refused += 1
        else:
            queued.append(message_id)
    too_late = failed.filter(useful_until__lte=now).count()
    return BulkResend(queued=queued, too_late=too_late, refused=refused)


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
