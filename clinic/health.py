"""Health checks for ``/healthz``: the database, the Celery broker and email delivery."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from clinic import selectors_outbox
from clinic.celery import app as celery_app
from clinic.models import SchedulerHeartbeat

logger = logging.getLogger(__name__)

# What /healthz (anonymous) says about a broken broker: the part, never paths or hosts.
BROKER_DOWN = "the message queue is not working; emails wait in the database until it is back"


# What /healthz says about a broken database: the part, never the driver's text (host, port).
DATABASE_DOWN = "the database is not answering"


def database_status() -> tuple[bool, str]:
    """Whether the database answers; the driver's error goes to the log, not to the answer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means "down"
        logger.warning("database check failed: %s: %s", type(error).__name__, error)
        return False, DATABASE_DOWN
    return True, "ok"


def broker_status() -> tuple[bool, str]:
    """Whether tasks can be queued; the reason goes to the log, not to the answer."""
    problem = filesystem_broker_problem()
    if problem:
        logger.warning("broker check failed: %s", problem)
        return False, BROKER_DOWN
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            # Opening a channel proves the transport answers, not just that the URL parses.
            conn.default_channel  # noqa: B018
    except Exception as error:  # kombu raises transport-specific errors
        logger.warning("broker check failed: %s: %s", type(error).__name__, error)
        return False, BROKER_DOWN
    return True, "ok"


def filesystem_broker_problem() -> str:
    """What is wrong with the folders of the filesystem broker (make run's default), or "".

    That transport "connects" without touching its folders, so a removed or damaged
    ``var/broker`` would otherwise look healthy while every task sent to it fails.
    """
    if not str(celery_app.conf.broker_url or "").startswith("filesystem"):
        return ""
    options = celery_app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        folder = options.get(key)
        if folder and not (os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)):
            return f"{key} {folder} is missing, not a folder or not writable"
    return ""


def email_status() -> dict[str, Any]:
    """Is email going out? Counts and ages only: no server address, no error text."""
    delivery = selectors_outbox.email_delivery(now=timezone.now())
    return {
        "ok": not delivery.outage,
        "consecutive_failures": delivery.consecutive_failures,
        "failing_for_minutes": delivery.failing_minutes,
        "oldest_waiting_minutes": delivery.oldest_waiting_minutes,
        "failed_messages": delivery.failed,
    }


# The beat job whose runs /healthz watches: the dispatch of due messages, every minute.
SWEEP_HEARTBEAT = "message-sweep"


def record_sweep(*, now: datetime) -> None:
    """Note that a sweep ran; one row overwritten, cheap enough for every minute."""
    SchedulerHeartbeat.objects.update_or_create(name=SWEEP_HEARTBEAT, defaults={"ran_at": now})


def beat_status(*, now: datetime) -> bool:
    """Whether a sweep ran in the last BEAT_STALE_MINUTES (never having run counts as stalled)."""
    last = (
        SchedulerHeartbeat.objects.filter(name=SWEEP_HEARTBEAT)
        .values_list("ran_at", flat=True)
        .first()
    )
    return last is not None and now - last <= timedelta(minutes=settings.BEAT_STALE_MINUTES)
