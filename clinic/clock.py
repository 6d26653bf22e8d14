"""The clinic's clock: its time zone, now, today, and the local day of a moment.

Everything is stored in UTC; the clinic reads its calendar in its own zone
(``settings.CLINIC_TIME_ZONE``). Services, selectors, views, tasks and commands ask this module;
pure rules (``rules.py``, ``bookings/slots.py``) keep taking ``tz`` / ``today`` / ``now`` as
arguments, and may pass ``tz`` to the helpers here, which then read no settings.

Wall-clock times on days the clocks change follow one convention everywhere:

- a time skipped by the spring-forward change does not exist (:func:`local_datetime` answers
  ``None``: nothing can be booked at 01:30 on the last Sunday of March in London);
- a time repeated by the fall-back change means its first occurrence (01:30 BST, not GMT).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def clinic_tz() -> ZoneInfo:
    """The clinic's time zone (``CLINIC_TIME_ZONE``, Europe/London by default)."""
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


def now() -> dt.datetime:
    """The current moment, aware, in UTC (frozen by time-machine in tests)."""
    return timezone.now()


def localtime(moment: dt.datetime, tz: ZoneInfo | None = None) -> dt.datetime:
    """An aware moment as the clinic's wall clock shows it. Naive datetimes are refused: their
    zone is a guess, and a guess is how a 10:00 appointment moves an hour."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the clinic's clock needs an aware datetime, got naive {moment!r}")
    return moment.astimezone(tz or clinic_tz())


def local_day(moment: dt.datetime, tz: ZoneInfo | None = None) -> dt.date:
    """The clinic-local calendar day of an aware moment (a 00:30 BST start is on its own day,
    not on the previous UTC day)."""
    return localtime(moment, tz).date()


def today(now: dt.datetime | None = None) -> dt.date:
    """Today in the clinic's zone (of ``now`` when given, so services can pass their ``now``)."""
    return local_day(now or timezone.now())


def local_datetime(day: dt.date, wall: dt.time, tz: ZoneInfo | None = None) -> dt.datetime | None:
    """The aware (UTC) moment of a wall-clock time on a clinic day, or ``None`` if the clocks
    skip it (spring forward). A repeated autumn time takes its first occurrence."""
    zone = tz or clinic_tz()
    local = dt.datetime.combine(day, wall.replace(tzinfo=None, fold=0), tzinfo=zone)
    moment = local.astimezone(dt.UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return moment


def start_of_day(day: dt.date, tz: ZoneInfo | None = None) -> dt.datetime:
    """The first moment (UTC) of a clinic-local day. Where a zone skips midnight itself, the
    day starts when the clocks resume (fold 0 reads a skipped time with the old offset)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz or clinic_tz()).astimezone(dt.UTC)


def day_bounds(
    first: dt.date, last: dt.date, tz: ZoneInfo | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """The UTC moments ``[start, end)`` covering the clinic-local days ``first`` to ``last``
    inclusive: 23 hours on the spring-forward day, 25 on the fall-back one."""
    zone = tz or clinic_tz()
    return start_of_day(first, zone), start_of_day(last + dt.timedelta(days=1), zone)
