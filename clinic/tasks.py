"""Celery tasks for the outbound-message ledger. Thin: each calls one service.

Both are safe to run twice, so both use ``acks_late``: a worker killed mid-task leaves the
task in the broker to run again, and the atomic claim in ``clinic.messaging`` makes the
second run a no-op for anything the first one sent.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from clinic import messaging


@shared_task(acks_late=True, ignore_result=True)
def send_message(message_id: int) -> str:
    return messaging.message_send(message_id=message_id).status


@shared_task(acks_late=True, ignore_result=True)
def dispatch_due_messages() -> int:
    """Hand every due message (and every one stuck past its lease) to the workers."""
    message_ids = messaging.due_message_ids(now=timezone.now())
    for message_id in message_ids:
        send_message.delay(message_id)
    return len(message_ids)
