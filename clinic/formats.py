"""Dates and times as people read them, in Python: the same named formats as the templates.

The formats themselves live in ``clinic/locale_formats/en_GB/formats.py`` (Django's
``FORMAT_MODULE_PATH``), so a page, an email and a rule's message write a day the same way.
Aware datetimes are shown on the clinic's wall clock first (:mod:`clinic.clock`; pure code
passes its ``tz``); dates and wall-clock times are shown as they are.

Rules build their messages with these functions: formatting reads the format settings, never
the database or the clock, so the rules stay pure in the sense that matters.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import formats

from clinic import clock

Day = dt.date | dt.datetime


def _format(value: Day, name: str, tz: ZoneInfo | None) -> str:
    if isinstance(value, dt.datetime):
        value = clock.localtime(value, tz)
    return formats.date_format(value, name)


def long_date(value: Day, tz: ZoneInfo | None = None) -> str:
    """``"Thursday 3 December 2026"``."""
    return _format(value, "LONG_DATE_FORMAT", tz)


def plain_date(value: Day, tz: ZoneInfo | None = None) -> str:
    """``"3 December 2026"``."""
    return _format(value, "DATE_FORMAT", tz)


def short_date(value: Day, tz: ZoneInfo | None = None) -> str:
    """``"3 Dec 2026"``."""
    return _format(value, "SHORT_DATE_FORMAT", tz)


def day_heading(value: Day, tz: ZoneInfo | None = None) -> str:
    """``"Thu 3 Dec"``."""
    return _format(value, "DAY_HEADING_FORMAT", tz)


def weekday(value: Day, tz: ZoneInfo | None = None) -> str:
    """``"Thursday"``."""
    return _format(value, "l", tz)


def clock_time(value: dt.time | dt.datetime, tz: ZoneInfo | None = None) -> str:
    """``"09:00"`` (a wall-clock time, or an aware moment on the clinic's clock)."""
    if isinstance(value, dt.datetime):
        return _format(value, "TIME_FORMAT", tz)
    return formats.time_format(value, "TIME_FORMAT")


def long_datetime(value: dt.datetime, tz: ZoneInfo | None = None) -> str:
    """``"Thursday 3 December 2026 at 09:00"``."""
    return _format(value, "LONG_DATETIME_FORMAT", tz)


def short_datetime(value: dt.datetime, tz: ZoneInfo | None = None) -> str:
    """``"3 Dec 2026, 09:00"``."""
    return _format(value, "SHORT_DATETIME_FORMAT", tz)
