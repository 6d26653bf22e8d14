"""Display helpers for patient pages: phone numbers as staff read them, ages."""

from __future__ import annotations

import datetime as dt

from django import template
from django.conf import settings

from clinic import clock
from clinic.phones import format_phone

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """ "+447700900123" -> "07700 900123" (international form for numbers from abroad)."""
    return format_phone(value or "", region=settings.CLINIC_PHONE_REGION)


@register.filter
def age(born: dt.date | None) -> int | str:
    """Whole years old today, in the clinic's time zone."""
    if not born:
        return ""
    today = clock.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
