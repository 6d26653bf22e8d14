"""Rendered calendars, kept until the schedule changes.

The day and week calendars cost ~20 ms of Python to lay out and draw, however quickly the
database answers; the same grid is asked for again and again by every desk in the clinic.
So the drawn grid (never the page around it: navigation, messages and the CSRF token stay
per request) is cached under a key made of:

- what was asked for (the view, its day or week, the practitioner, the "booking for" query);
- the current minute, rounded up: the only thing time changes in a grid is which free cells
  are already inside the minimum notice (``row < now + notice``, all in whole minutes), and
  that answer is the same for every moment inside one minute;
- the schedule version: a token in the database (``ScheduleVersion``) that is replaced
  after every committed change to a model the calendars read (``WATCHED``).

Why this is safe: a view reads the token first, before any data it draws. The token is replaced
only after the change has committed (``transaction.on_commit``), so a page that saw the old
token either read the old data or (between the commit and the new token) the new data under
the old key, which is never wrong for long; a page that saw the new token always reads the
changed data. A change that never reaches a new token (the process dies between the commit
and the update) is covered by the cache's timeout (``CALENDAR_CACHE_SECONDS``).

The token is replaced by ``post_save``/``post_delete`` receivers on ``WATCHED`` (so the
admin and every service are covered without each remembering to), and by an explicit
:func:`schedule_changed` wherever a watched table is written without signals (bulk
creates, queryset updates). Tests change each kind of thing a calendar shows and check the
next page shows it (``tests/bookings/test_calendar_cache.py``).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection, transaction
from django.db.models.signals import post_delete, post_save

logger = logging.getLogger(__name__)

CACHE_ALIAS = "calendar"


def watched_models() -> list[type]:
    """Every model whose rows a calendar reads (cards, columns, open hours, notice)."""
    from bookings.models import Appointment, BookingSettings, TimeOff, WorkingHours
    from clinic.models import ClinicClosure, OpeningHours, Patient, Practitioner
    from treatments.models import TreatmentSeries, TreatmentType

    return [
        Appointment,  # the cards, their status, times, overrides, cancellation reasons
        Patient,  # names and suitability badges on the cards, "booking for" banner
        TreatmentSeries,  # "Session 3 of 6"
        TreatmentType,  # treatment names on the cards
        Practitioner,  # columns, their names and colours, who is active
        WorkingHours,
        TimeOff,
        OpeningHours,
        ClinicClosure,
        BookingSettings,  # minimum notice: which free cells can still be booked
    ]


def connect() -> None:
    """Called once from ``BookingsConfig.ready``."""
    for model in watched_models():
        post_save.connect(_on_change, sender=model, dispatch_uid=f"calendar-cache-save-{model}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"calendar-cache-delete-{model}")


def _on_change(sender: Any, **kwargs: Any) -> None:
    schedule_changed(using=kwargs.get("using"))


def schedule_changed(*, using: str | None = None) -> None:
    """Replace the schedule version once the current transaction commits (at once outside
    one). Called any number of times in a transaction, it replaces the token once."""
    current = transaction.get_connection(using)
    if current.in_atomic_block and any(
        callback is _new_version for _, callback, _ in current.run_on_commit
    ):
        return
    transaction.on_commit(_new_version, using=using, robust=True)


def _new_version() -> None:
    from bookings.models import ScheduleVersion

    token = uuid.uuid4().hex
    if not ScheduleVersion.objects.filter(pk=1).update(token=token):
        ScheduleVersion.objects.get_or_create(pk=1, defaults={"token": token})


def current_version() -> str | None:
    """The schedule version (one query), or None when it cannot be read (no caching)."""
    from bookings.models import ScheduleVersion

    table = connection.ops.quote_name(ScheduleVersion._meta.db_table)
    try:
        # A plain cursor: this runs on every calendar look, the ORM's overhead was half of it.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT token FROM {table} WHERE id = 1")  # noqa: S608 - our table
            row = cursor.fetchone()
        if row is not None:
            return row[0]
        return ScheduleVersion.objects.get_or_create(pk=1, defaults={"token": uuid.uuid4().hex})[
            0
        ].token
    except DatabaseError:
        logger.warning("schedule version unreadable: calendar drawn without the cache")
        return None


def minute_after(moment: datetime) -> datetime:
    """The moment rounded up to a whole minute (itself when it is one)."""
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)


def cached(what: Hashable, *, version: str | None, now: datetime, render: Callable[[], Any]) -> Any:
    """``render()``'s result for ``what`` at ``now``, from the cache while the schedule is
    unchanged. ``version`` is :func:`current_version`, read by the view *before* anything
    ``render`` draws (the practitioner, the patient being booked for, the calendar)."""
    if version is None or not settings.CALENDAR_CACHE_SECONDS:
        return render()
    asked = hashlib.sha256(repr(what).encode()).hexdigest()[:32]
    key = f"calendar:{version}:{minute_after(now):%Y%m%d%H%M}:{asked}"
    cache = caches[CACHE_ALIAS]
    found = cache.get(key)
    if found is not None:
        return found
    value = render()
    cache.set(key, value, settings.CALENDAR_CACHE_SECONDS)
    return value
