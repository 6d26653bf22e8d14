"""Vocabulary the clinic app shares with the apps built on it.

``Suitability`` lives here because the patient list shows the latest screening as a badge
and ``clinic`` imports neither ``treatments`` nor ``bookings``; ``treatments.choices``
re-exports it so the clinical code keeps one vocabulary. Plain enums: no database access.
"""

from __future__ import annotations

from django.db import models


class Suitability(models.TextChoices):
    SUITABLE = "suitable", "Suitable"
    CAUTION = "caution", "Caution"
    NOT_SUITABLE = "not_suitable", "Not suitable"
    UNKNOWN = "unknown", "No assessment yet"
