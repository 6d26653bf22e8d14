"""The seam between booking services and patient messages.

Booking services call ``appointment_changed`` (inside ``transaction.on_commit``) after
every booking, reschedule, cancellation or status change. The reminders work owns this
module and turns the calls into ledger entries; until then it records nothing.
"""

from __future__ import annotations


def appointment_changed(*, appointment_id: int, event: str) -> None:
    """``event`` is one of "booked", "rescheduled", "cancelled", "status"."""
