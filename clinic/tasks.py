"""Celery tasks for the outbound-message ledger. Thin: each calls one service.

Both are safe to run twice, so both use ``acks_late``: a worker killed mid-task leaves the
task in the broker to run again, and the atomic claim in ``clinic.messaging`` makes the
second run a no-op for anything the first one sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from celery import shared_task
from django.utils import timezone

from clinic import audit, audit_anchors, health, messaging

# Messages per task: one SMTP session and one task round trip for each batch. Each message is
# claimed (and leased) only when its turn in the batch comes, so a slow batch holds no lease.
SEND_BATCH_SIZE = 50

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def send_message(*message_ids: int) -> str:
    """Send one message, or several over one SMTP connection (ids only in the payload).

    Returns each id's outcome, comma-separated (``sent``, ``retry``, ``failed``, ``busy``)."""
    outcomes = messaging.messages_send(message_ids=message_ids)
    return ",".join(outcome.status for outcome in outcomes)


def queue_sends(message_ids: Sequence[int]) -> None:
    """Queue messages for the workers in batches of :data:`SEND_BATCH_SIZE`."""
    for first in range(0, len(message_ids), SEND_BATCH_SIZE):
        send_message.delay(*message_ids[first : first + SEND_BATCH_SIZE])


def kick_sends(message_ids: Sequence[int]) -> None:
    """Queue messages now if the broker takes them; never raises into a page or a booking.

    The messages are already in the ledger, so when the broker is down (a removed
    ``var/broker`` folder, Redis restarting) the next ``dispatch_due_messages`` sends them.
    """
    try:
        queue_sends(message_ids)
    except Exception as error:  # each transport raises its own errors (OSError, kombu's)
        logger.warning(
            "broker unavailable (%s); %d message(s) wait for the next sweep",
            type(error).__name__,
            len(message_ids),
        )


@shared_task(acks_late=True, ignore_result=True)
def dispatch_due_messages() -> int:
    """Expire what is no longer worth sending, then hand every due message (and every one
    stuck past its lease) to the workers."""
    now = timezone.now()
    health.record_sweep(now=now)
    messaging.messages_expire(now=now)
    message_ids = messaging.due_message_ids(now=now)
    queue_sends(message_ids)
    return len(message_ids)


@shared_task(ignore_result=True)
def seal_audit_views() -> int:
    """Link the views of records written since the last run into the audit chain."""
    return audit.seal_pending()


@shared_task(ignore_result=True)
def anchor_audit_chain() -> int:
    """Record the audit chain's head outside the database (see ``clinic.audit_anchors``)."""
    audit.seal_pending()
    anchor = audit_anchors.record_anchor()
    return anchor.seq if anchor else 0


@shared_task(ignore_result=True)
def backup_database() -> str:
    """One backup and rotation (``manage.py backup_now``), every BACKUP_INTERVAL_HOURS."""
    from django.core.management import call_command

    call_command("backup_now")
    return "done"
