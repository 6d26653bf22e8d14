"""Bookings' side of a session logged from an appointment: the only writer of that link.

Registered with :mod:`treatments.appointment_links` from ``BookingsConfig.ready``; the session
services call these inside their own transaction, so neither is durable.
"""

from __future__ import annotations

from bookings.models import Appointment
from treatments.models import TreatmentSession
from treatments.services.sessions import SessionError


def appointment_link_session(*, session: TreatmentSession, appointment: Appointment) -> None:
    """Link ``appointment`` to ``session``: the same patient, no other series, no other session.

    The appointment row is locked so two practitioners logging from it at once cannot both
    link a session.
    """
    series = session.series
    locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if locked.patient_id != series.patient_id:
        raise SessionError("That appointment is for another patient.", field="appointment")
    if locked.series_id not in (None, series.pk):
        raise SessionError("That appointment belongs to another series.", field="appointment")
    if locked.treatment_session_id not in (None, session.pk):
        raise SessionError(
            "That appointment already has a session logged against it.", field="appointment"
        )
    locked.treatment_session = session
    locked.series = series
    locked.save(update_fields=["treatment_session", "series"])
    appointment.treatment_session = session  # the caller's copy tells the same story
    appointment.series = series


def appointment_unlink_session(*, session: TreatmentSession) -> None:
    """Free the appointment a discarded draft was logged from; it stays as it was otherwise."""
    linked = Appointment.objects.select_for_update().filter(treatment_session=session).first()
    if linked is not None:
        linked.treatment_session = None
        linked.save(update_fields=["treatment_session"])
