"""The seam between booking services and patient messages.

Booking services call ``appointment_changed`` (inside ``transaction.on_commit``) after
every booking, reschedule, cancellation or status change. It records the change for the
notice sweep in ``bookings.reminders`` (which waits out the grace period and sends one
notice for the final state) and retires reminders for a time that no longer applies. It
writes to the database rather than queueing a task, so a broker that is down at booking
time loses nothing.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from bookings import reminders

logger = logging.getLogger(__name__)

EVENTS = ("booked", "rescheduled", "cancelled", "status")


def appointment_changed(*, appointment_id: int, event: str) -> None:
    """``event`` is one of "booked", "rescheduled", "cancelled", "status"."""
    if event not in EVENTS:
        raise ValueError(f"Unknown appointment event {event!r}; expected one of {EVENTS}")
    try:
        reminders.booking_change_record(
            appointment_id=appointment_id, event=event, now=timezone.now()
        )
    except Exception:  # the booking itself committed; a lost notice is logged, not a 500
        logger.exception(
            "Could not record the %s change of appointment %s for its notices",
            event,
            appointment_id,
        )
