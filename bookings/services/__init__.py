"""Every booking write with rules: book, move, cancel, change status, book a series' rest.

Patient self-service pages and the API call these same functions as the staff pages.
"""

from __future__ import annotations

from bookings.rules import (
    BookingError,
    InvalidTransition,
    SeriesFull,
    SlotUnavailable,
    SuitabilityOverrideRequired,
)
from bookings.services.appointments import (
    PlannedSession,
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_confirm,
    appointment_mark_no_show,
    appointment_reschedule,
    appointment_set_status,
    series_book_remaining,
)
from treatments.rules import DomainError, OverrideNotAllowed, SpacingViolation

__all__ = [
    "BookingError",
    "DomainError",
    "InvalidTransition",
    "OverrideNotAllowed",
    "PlannedSession",
    "SeriesFull",
    "SlotUnavailable",
    "SpacingViolation",
    "SuitabilityOverrideRequired",
    "appointment_book",
    "appointment_cancel",
    "appointment_check_in",
    "appointment_complete",
    "appointment_confirm",
    "appointment_mark_no_show",
    "appointment_reschedule",
    "appointment_set_status",
    "series_book_remaining",
]
