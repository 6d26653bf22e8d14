"""The seam between booking services and patient messages.

Booking services call ``appointment_changed`` inside their own transaction after every
booking, reschedule, cancellation or status change. It records the change for the notice
sweep in ``bookings.reminders`` (which waits out the grace period and sends one notice for the
final state) and retires reminders for a time that no longer applies. The appointment and its
notice commit together or not at all: a crash or a database error cannot leave a booking whose
confirmation is lost, and a notice that cannot be written refuses the booking rather than
dropping it. It writes to the database rather than queueing a task, so a broker that is down
at booking time loses nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from bookings import reminders
from bookings.models import Appointment
from clinic.models import MessageStatus
from clinic.tasks import kick_sends

EVENTS = ("booked", "rescheduled", "cancelled", "status")


def appointment_changed(*, appointment_id: int, event: str) -> None:
    """``event`` is one of "booked", "rescheduled", "cancelled", "status".

    Call inside the transaction that changed the appointment; errors propagate so that the
    change rolls back with its notice.
    """
    if event not in EVENTS:
        raise ValueError(f"Unknown appointment event {event!r}; expected one of {EVENTS}")
    reminders.booking_change_record(appointment_id=appointment_id, event=event, now=timezone.now())


def series_booked(*, appointments: Sequence[Appointment], now: dt.datetime) -> None:
    """Sessions of a series booked together: one email listing them all, recorded in the
    booking's transaction (a failure books nothing); only the send kick waits for commit."""
    message = reminders.series_booking_record(appointments=appointments, now=now)
    if message is not None and message.status == MessageStatus.PENDING:
        message_id = message.pk
        transaction.on_commit(lambda: kick_sends([message_id]), robust=True)
