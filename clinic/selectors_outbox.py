"""Reads for the outbox page: a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Count, F, Min, Q, QuerySet, When

from clinic import clock
from clinic.models import MailServerState, MessageStatus, OutboundMessage, normalise_for_search

# The rendered bodies can be long; list pages never need them.
LIST_DEFERRED = ("body_text", "body_html", "attachments", "headers")


def outbox_messages(
    *,
    kind: str = "",
    status: str = "",
    patient: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[OutboundMessage]:
    """Messages newest first, filtered; dates are clinic-local days of ``due_at`` (when the
    message was, or is, to go). ``patient`` matches a patient number, name or address."""
    messages = OutboundMessage.objects.select_related("patient").defer(*LIST_DEFERRED)
    if kind:
        messages = messages.filter(kind=kind)
    if status:
        messages = messages.filter(status=status)
    if patient:
        if patient.lstrip("#").isdigit():
            messages = messages.filter(patient_id=int(patient.lstrip("#")))
        else:
            words = normalise_for_search(patient).split()
            condition = Q(recipient__icontains=patient)
            name_match = Q()
            for word in words:
                name_match &= Q(patient__search_text__contains=word)
            messages = messages.filter(condition | name_match)
    if date_from:
        messages = messages.filter(due_at__gte=clock.start_of_day(date_from))
    if date_to:
        messages = messages.filter(due_at__lt=clock.start_of_day(date_to + dt.timedelta(days=1)))
    return messages.order_by("-due_at", "-id")


# An outage: the mail server failed this many times in a row, or a due email waited this long.
OUTAGE_FAILURES = 3
OUTAGE_WAIT = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class EmailDelivery:
    """How patient emails are going: an ongoing outage, and failures waiting for staff.

    Counts and ages only, never the server's address or its error text (``/healthz`` shows
    this to anyone)."""

    now: dt.datetime
    consecutive_failures: int
    failing_since: dt.datetime | None
    oldest_waiting_since: dt.datetime | None
    failed: int

    @property
    def oldest_waiting_minutes(self) -> int | None:
        if self.oldest_waiting_since is None:
            return None
        return max(int((self.now - self.oldest_waiting_since).total_seconds() // 60), 0)

    @property
    def failing_minutes(self) -> int | None:
        if self.failing_since is None:
            return None
        return max(int((self.now - self.failing_since).total_seconds() // 60), 0)

    @property
    def outage(self) -> bool:
        waited_too_long = self.oldest_waiting_since is not None and (
            self.now - self.oldest_waiting_since >= OUTAGE_WAIT
        )
        return self.consecutive_failures >= OUTAGE_FAILURES or waited_too_long


def email_delivery(*, now: dt.datetime) -> EmailDelivery:
    """The state of email delivery in two queries.

    A waiting email is one that is due and not sent: never tried (waiting since it fell due)
    or put back after a failure (waiting since it was recorded: its ``due_at`` moved on)."""
    server = MailServerState.objects.filter(pk=1).first()
    waiting = Q(status__in=(MessageStatus.PENDING, MessageStatus.SENDING)) & (
        Q(attempts__gt=0) | Q(due_at__lte=now)
    )
    figures = OutboundMessage.objects.aggregate(
        oldest=Min(
            Case(When(attempts=0, then=F("due_at")), default=F("created_at")), filter=waiting
        ),
        failed=Count("pk", filter=Q(status=MessageStatus.FAILED)),
    )
    return EmailDelivery(
        now=now,
        consecutive_failures=server.consecutive_failures if server else 0,
        failing_since=server.failing_since if server else None,
        oldest_waiting_since=figures["oldest"],
        failed=figures["failed"],
    )


@dataclass(frozen=True)
class FailedMessages:
    """Failed emails a bulk resend would queue again, and those too late to send."""

    worth_sending: int
    too_late: int


def failed_messages(*, now: dt.datetime) -> FailedMessages:
    worth_sending = Q(useful_until__isnull=True) | Q(useful_until__gt=now)
    figures = OutboundMessage.objects.filter(status=MessageStatus.FAILED).aggregate(
        worth_sending=Count("pk", filter=worth_sending),
        too_late=Count("pk", filter=~worth_sending),
    )
    return FailedMessages(worth_sending=figures["worth_sending"], too_late=figures["too_late"])
