"""Deliver due reminders through a real Celery worker to a local SMTP sink, and time it.

The reminders are recorded in the ledger exactly as the reminder sweep records them (same
renderer, same idempotency keys, due now) for the next upcoming appointments; then the ids
are queued as the beat task queues them (batches of ``clinic.tasks.SEND_BATCH_SIZE``), a
worker (``celery -A clinic worker``, prefork, two processes) claims and sends each batch over
one SMTP session to an aiosmtpd sink on loopback, and the clock stops when the sink has every
message and the ledger says ``sent`` for all of them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from bench.load import free_port


class DeliveryUnavailable(Exception):
    pass


@dataclass
class DeliveryResult:
    messages: int
    seconds: float
    concurrency: int
    received: int
    ledger_sent: int

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


class CountingSink:
    """An aiosmtpd handler that only counts (and checks nothing is lost)."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += 1
        return "250 Message accepted for delivery"


def record_due_reminders(count: int) -> list[int]:
    """``count`` reminders due now for the next upcoming appointments (one per appointment)."""
    try:
        from bookings import reminders
    except ImportError:
        raise DeliveryUnavailable("bookings.reminders is not in this checkout") from None
    from bookings.models import Appointment
    from clinic import emails, messaging
    from clinic.models import MessageKind, MessageStatus

    now = timezone.now()
    appointments = (
        Appointment.objects.filter(status__in=reminders.REMINDABLE_STATUSES, starts_at__gt=now)
        .exclude(patient__email="")
        .select_related("patient", "practitioner", "treatment_type")
        .order_by("starts_at", "id")[:count]
    )
    ids = []
    for appointment in appointments:
        message, _ = messaging.message_record(
            kind=MessageKind.APPOINTMENT_REMINDER,
            idempotency_key=reminders.reminder_key(appointment, 48),
            patient=appointment.patient,
            recipient=appointment.patient.email,
            about=appointment,
            rendered=emails.appointment_reminder(
                given_name=appointment.patient.given_name,
                appointment=reminders.appointment_details(appointment),
                links=reminders.appointment_links(appointment, now=now),
                confirmed=False,
                lead_time=reminders.lead_time_words(starts_at=appointment.starts_at, now=now),
            ),
            due_at=now,
        )
        if message.status == MessageStatus.PENDING:
            ids.append(message.pk)
    if len(ids) < count:
        raise DeliveryUnavailable(f"only {len(ids)} upcoming appointments to remind")
    return ids


def deliver(*, count: int, concurrency: int = 2, timeout: float = 600) -> DeliveryResult:
    """Two prefork worker processes: each task sends a batch over one SMTP session, so the
    two cores are shared by the worker processes, PostgreSQL and the sink."""
    from aiosmtpd.controller import Controller

    from clinic.models import MessageStatus, OutboundMessage
    from clinic.tasks import queue_sends

    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis://"):
        raise DeliveryUnavailable("set CELERY_BROKER_URL to a Redis broker for the delivery run")
    ids = record_due_reminders(count)
    sink = CountingSink()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    log = Path(settings.VAR_DIR) / "bench-worker.log"
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="clinic.settings",
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
    )
    celery = Path(sys.executable).with_name("celery")
    with log.open("w") as log_file:
        worker = subprocess.Popen(  # noqa: S603 - our own worker
            [
                str(celery),
                "-A",
                "clinic",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "warning",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=settings.BASE_DIR,
        )
    try:
        # Let the worker connect first: the clock is for delivery, not for starting Python.
        _wait_for_worker(worker)
        started = time.perf_counter()
        queue_sends(ids)  # as the beat tasks queue them: batches, one SMTP session each
        deadline = started + timeout
        while sink.count < count and time.perf_counter() < deadline:
            if worker.poll() is not None:
                raise DeliveryUnavailable("the worker stopped; see var/bench-worker.log")
            time.sleep(0.02)
        sent = 0
        while time.perf_counter() < deadline:
            sent = OutboundMessage.objects.filter(pk__in=ids, status=MessageStatus.SENT).count()
            if sent >= count:
                break
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        controller.stop()
    if sink.count < count or sent < count:
        raise DeliveryUnavailable(
            f"only {sink.count} of {count} messages reached the sink ({sent} marked sent) "
            f"within {timeout:.0f} s"
        )
    return DeliveryResult(
        messages=count,
        seconds=elapsed,
        concurrency=concurrency,
        received=sink.count,
        ledger_sent=sent,
    )


def _wait_for_worker(worker: subprocess.Popen, timeout: float = 60) -> None:
    from clinic.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise DeliveryUnavailable("the worker stopped while starting; see var/bench-worker.log")
        replies = app.control.ping(timeout=0.5)
        if replies:
            return
    raise DeliveryUnavailable("the worker did not start within 60 s")
