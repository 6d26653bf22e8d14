"""The minute-by-minute sweeps when nothing is due: a fixed number of queries, whatever the
history (``make bench`` measures them on four years of it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.reminders import sweep_all
from tests.builders import book, london, open_clinic_every_day, series_after_sessions, sweep
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NOW = london(2026, 9, 7, 9, 30)  # a Monday morning
# notices 1, reminders 2, aftercare 2, follow-ups 3, maintenance 2 (intervals, then series in
# their window not mailed yet: none, so no "already recorded?" lookup); with nothing even in a
# reminder window the other two "already recorded?" lookups are not needed: 8.
IDLE_SWEEP_QUERIES = 10
IDLE_SWEEP_QUERIES_EMPTY_WINDOWS = 8


def settle(when: dt.datetime) -> None:
    """Two beats: the first records and sends, the second marks sent aftercare notes done."""
    sweep(when)
    sweep(when)


def idle_sweep_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        assert sweep_all(now=NOW) == []
    return len(queries)


def test_a_sweep_with_nothing_due_uses_a_fixed_number_of_queries(practitioner: Any, patient: Any):
    open_clinic_every_day(practitioner)
    # Everything that can be due: a follow-up, a maintenance reminder, a reminder.
    series_after_sessions(
        patient=patient, practitioner=practitioner, performed=[NOW - dt.timedelta(days=15)]
    )
    done = PatientFactory()
    series_after_sessions(
        patient=done,
        practitioner=practitioner,
        performed=[NOW - dt.timedelta(days=50), NOW - dt.timedelta(days=31)],
        planned=2,
    )
    book(PatientFactory(), practitioner, london(2026, 9, 8, 10), when=NOW - dt.timedelta(days=9))
    settle(NOW)  # records (and sends) all of it

    assert idle_sweep_queries() == IDLE_SWEEP_QUERIES


def test_old_finished_series_do_not_make_the_idle_sweep_read_more(practitioner: Any, patient: Any):
    open_clinic_every_day(practitioner)
    settle(NOW)
    before = idle_sweep_queries()
    for years_ago in (1, 2, 3):
        first = NOW - dt.timedelta(days=365 * years_ago)
        series_after_sessions(
            patient=PatientFactory(),
            practitioner=practitioner,
            performed=[first, first + dt.timedelta(days=21)],
            planned=2,
        )
    settle(NOW)

    with CaptureQueriesContext(connection) as queries:
        assert sweep_all(now=NOW) == []
    assert len(queries) == before == IDLE_SWEEP_QUERIES_EMPTY_WINDOWS
    series_reads = [q["sql"] for q in queries if 'FROM "treatments_treatmentseries"' in q["sql"]]
    assert all('"last_session_on" >=' in sql for sql in series_reads)
