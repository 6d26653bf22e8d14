"""The booking vocabulary shared by models, forms and the pure rules.

Plain ``TextChoices``: importing them touches no database, so ``bookings.rules`` can use them
and stay pure. ``bookings.models`` re-exports them.
"""

from __future__ import annotations

from django.db import models


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CONFIRMED = "confirmed", "Confirmed"
    CHECKED_IN = "checked_in", "Checked in"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"
