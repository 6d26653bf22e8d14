"""One series window, one status vocabulary: the series page and the due list say the same."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bookings import selectors
from tests.builders import MONDAY, local, series_after_sessions
from treatments.selectors_series import series_next_window

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
# Where each series starts (unstarted: its planned start; started: its one session).
ANCHOR = MONDAY - 40 * DAY


@pytest.mark.parametrize(
    ("started", "days_after_anchor", "status"),
    [
        (False, -1, "planned"),
        (False, 0, "open"),
        (False, 6, "open"),
        (False, 7, "closing"),
        (False, 14, "closing"),
        (False, 15, "overdue"),
        (False, 60, "overdue"),
        (True, 13, "too_early"),
        (True, 14, "open"),
        (True, 21, "closing"),
        (True, 28, "closing"),
        (True, 29, "overdue"),
    ],
)
def test_the_series_page_and_the_due_list_give_a_series_the_same_status(
    crystal: Any,
    patient: Any,
    practitioner: Any,
    started: bool,
    days_after_anchor: int,
    status: str,
):
    series = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=crystal,
        performed=[ANCHOR] if started else [],
    )
    if not started:
        series.start_on = ANCHOR
        series.save(update_fields=["start_on"])
    today = ANCHOR + days_after_anchor * DAY

    page_status = series_next_window(series, today=today).status
    due = selectors.due_series(today=today, now=local(today, 8))
    listed = {entry.series.pk: entry.status for _, _, entries in due.groups for entry in entries}

    assert page_status == status
    if status in ("planned", "too_early"):
        assert series.pk not in listed  # nothing to chase yet
    else:
        assert listed[series.pk] == status
