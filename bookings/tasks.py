"""Celery tasks for patient messages. Thin: each calls one service and hands on ids.

Every task here is safe to run twice (sweeps record under unique keys, sends claim
atomically), so they use ``acks_late``: a worker killed mid-task leaves the task queued.
"""

from __future__ import annotations

from celery import shared_task

from bookings import reminders
from clinic.tasks import queue_sends


@shared_task(acks_late=True, ignore_result=True)
def sweep_patient_messages() -> int:
    """Record every message that fell due and queue it for sending (beat, every minute)."""
    message_ids = reminders.sweep_all()
    # Each sweep committed its rows already: the workers can see every id queued here.
    queue_sends(list(message_ids))
    return len(message_ids)
