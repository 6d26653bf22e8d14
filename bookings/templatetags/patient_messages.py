"""``{% appointment_messages appointment %}``: the emails about one appointment (notices and
reminders) as a small table, for the appointment page. One query."""

from __future__ import annotations

from typing import Any

from django import template

from bookings import reminders
from bookings.models import Appointment
from clinic.models import MessageStatus

register = template.Library()


@register.inclusion_tag("bookings/_appointment_messages.html", takes_context=True)
def appointment_messages(context: Any, appointment: Appointment) -> dict[str, Any]:
    request = context.get("request")
    return {
        "appointment_messages": list(reminders.messages_for_appointment(appointment)),
        "statuses": MessageStatus,
        "here": request.get_full_path() if request is not None else "",
        "csrf_token": context.get("csrf_token"),
        "outbox_query": f"?patient={appointment.patient_id}",
    }
