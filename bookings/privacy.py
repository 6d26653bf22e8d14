"""What the bookings app holds about a patient, for GDPR export and erasure (``clinic.privacy``).

Erasure keeps the appointments (the clinic's diary and the clinical record's context) but
blanks the free text typed about them, and cancels appointments still to come: an erased
patient is not expected, and receives nothing.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from bookings.calendar_cache import schedule_changed
from bookings.models import ACTIVE_STATUSES, Appointment, AppointmentChange
from bookings.services.appointments import appointment_cancel_locked
from clinic import audit
from clinic.models import Patient
from clinic.privacy import PrivacyProvider

FREE_TEXT = (
    "notes",
    "cancellation_reason",
    "spacing_override_reason",
    "suitability_override_reason",
)


def export_bookings(patient: Patient) -> dict[str, Any]:
    appointments = (
        Appointment.objects.filter(patient=patient)
        .select_related("practitioner", "room", "treatment_type")
        .order_by("starts_at", "id")
    )
    changes = AppointmentChange.objects.filter(appointment__patient=patient).order_by(
        "changed_at", "id"
    )
    return {
        "appointments": [
            {
                "id": item.pk,
                "treatment": item.treatment_type.name,
                "practitioner": item.practitioner.display_name,
                "room": item.room.name,
                **audit.snapshot(item),
            }
            for item in appointments
        ],
        "appointment_history": [
            {"appointment_id": item.appointment_id, **audit.snapshot(item)} for item in changes
        ],
    }


def erase_bookings(patient: Patient) -> dict[str, int]:
    now = timezone.now()
    upcoming = Appointment.objects.filter(
        patient=patient, status__in=ACTIVE_STATUSES, starts_at__gt=now
    ).values_list("pk", flat=True)
    cancelled = 0
    for appointment_id in list(upcoming):
        appointment_cancel_locked(appointment=appointment_id, reason="Patient data erased", now=now)
        cancelled += 1
    blanked = Appointment.objects.filter(patient=patient).update(**dict.fromkeys(FREE_TEXT, ""))
    schedule_changed()  # cancellation reasons show on the day calendar; update() sends no signal
    AppointmentChange.objects.filter(appointment__patient=patient).update(reason="")
    return {"appointments_cancelled": cancelled, "appointments_blanked": blanked}


PROVIDER = PrivacyProvider(
    name="bookings",
    title="Appointments",
    export=export_bookings,
    erase=erase_bookings,
)
