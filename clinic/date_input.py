"""Dates and moments typed by people and programs: parsed and bounded in one place.

Python's dates run from 0001-01-01 to 9999-12-31, and the app adds and subtracts days and
weeks around every date it is given (previous and next day, the week around a day, a
fortnight of slots, an appointment's end and its local day). A date near either end of that
range overflows in that arithmetic and the request answers 500. Every date or moment that
comes from a request (page addresses, forms, the API) goes through :func:`check_day` /
:func:`check_moment` (or :func:`parse_day`, :class:`DayField`), which refuse dates outside
the years the clinic can use with a message for the person who typed them.

No ORM, no clock, no settings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from clinic.errors import BAD_INPUT, DomainError

FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)
RANGE_TEXT = "between 1 January 1900 and 31 December 2199"


class DateInputError(DomainError, ValueError):
    """A date from a request is not a date, or lies outside :data:`FIRST_DAY`-:data:`LAST_DAY`."""

    code = "date_out_of_range"
    http_status = BAD_INPUT


def check_day(day: dt.date) -> dt.date:
    """``day`` itself when the clinic can work with it, else :class:`DateInputError`."""
    if isinstance(day, dt.datetime):
        day = day.date()
    if not FIRST_DAY <= day <= LAST_DAY:
        raise DateInputError(f"{day.isoformat()} is out of range: choose a date {RANGE_TEXT}.")
    return day


def check_moment(moment: dt.datetime) -> dt.datetime:
    """``moment`` itself when its day (in its own zone and in UTC) is usable."""
    check_day(moment.date())
    if moment.tzinfo is not None and moment.utcoffset() is not None:
        check_day(moment.astimezone(dt.UTC).date())
    return moment


def parse_day(text: str) -> dt.date:
    """A ``YYYY-MM-DD`` date from an address or a field, checked by :func:`check_day`."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except (TypeError, ValueError, AttributeError):
        raise DateInputError(
            f"{str(text)[:40]!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-03-14."
        ) from None
    return check_day(day)


def validate_day(value: Any) -> None:
    """Form validator wrapping :func:`check_day`."""
    if isinstance(value, dt.date):
        try:
            check_day(value)
        except DateInputError as error:
            raise ValidationError(error.message, code="date_out_of_range") from None


class DayField(forms.DateField):
    """A form date field that refuses dates the clinic cannot work with."""

    default_validators = [validate_day]
