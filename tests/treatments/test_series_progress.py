"""Where a series stands: k of n, the next window, proposed dates, maintenance, the trend."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clinic import timeline
from tests.builders import (
    logged_session,
    london,
    planned_series,
    signed_session,
    signed_sessions_every,
)
from treatments.models import TreatmentType
from treatments.selectors_series import (
    NextKind,
    NextStatus,
    series_next_window,
    series_progress,
    series_sessions,
    session_trend,
)
from treatments.services.series import series_start_maintenance, series_stop

pytestmark = pytest.mark.django_db

START = dt.date(2026, 3, 2)


@pytest.fixture
def series(patient: Any, practitioner: Any) -> Any:
    return planned_series(patient, practitioner, start_on=START)


def test_a_series_not_started_shows_its_start_and_all_proposed_dates(series: Any) -> None:
    progress = series_progress(series, today=dt.date(2026, 2, 20))

    assert (progress.completed, progress.planned, progress.percent) == (0, 6, 0)
    assert progress.next_session.kind == NextKind.FIRST
    assert progress.next_session.earliest == START
    assert progress.next_session.status == NextStatus.PLANNED
    assert progress.proposed_dates == [START + dt.timedelta(days=21 * n) for n in range(6)]


def test_the_next_window_runs_from_14_to_28_days_after_the_last_session(
    series: Any, practitioner: Any
) -> None:
    signed_session(series, practitioner, london(2026, 3, 2, 10))
    series.refresh_from_db()

    window = series_next_window(series, today=dt.date(2026, 3, 9))

    assert (window.number, window.kind) == (2, NextKind.SERIES)
    assert (window.earliest, window.ideal, window.latest) == (
        dt.date(2026, 3, 16),
        dt.date(2026, 3, 23),
        dt.date(2026, 3, 30),
    )
    assert window.status == NextStatus.TOO_EARLY


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (dt.date(2026, 3, 15), NextStatus.TOO_EARLY),
        (dt.date(2026, 3, 16), NextStatus.OPEN),
        (dt.date(2026, 3, 23), NextStatus.CLOSING),
        (dt.date(2026, 3, 30), NextStatus.CLOSING),
        (dt.date(2026, 3, 31), NextStatus.OVERDUE),
    ],
    ids=["day-13", "day-14", "last-week", "day-28", "day-29"],
)
def test_the_window_status_tells_staff_whether_to_book_now(
    series: Any, practitioner: Any, today: dt.date, status: str
) -> None:
    signed_session(series, practitioner, london(2026, 3, 2, 10))
    series.refresh_from_db()

    assert series_next_window(series, today=today).status == status


def test_proposed_dates_for_the_remaining_sessions_never_lie_in_the_past(
    series: Any, practitioner: Any
) -> None:
    signed_session(series, practitioner, london(2026, 3, 2, 10))
    series.refresh_from_db()

    on_time = series_progress(series, today=dt.date(2026, 3, 10))
    late = series_progress(series, today=dt.date(2026, 4, 20))

    assert on_time.proposed_dates == [
        dt.date(2026, 3, 23),
        dt.date(2026, 4, 13),
        dt.date(2026, 5, 4),
        dt.date(2026, 5, 25),
        dt.date(2026, 6, 15),
    ]
    assert late.proposed_dates[0] == dt.date(2026, 4, 20)
    assert late.next_session.overdue is True


def test_a_completed_series_shows_its_monthly_maintenance_schedule(
    patient: Any, practitioner: Any
) -> None:
    series = planned_series(patient, practitioner, start_on=START, planned_sessions=2)
    signed_sessions_every(series, practitioner, first=london(2026, 3, 2, 10), count=2)
    series.refresh_from_db()

    progress = series_progress(series, today=dt.date(2026, 3, 30))

    assert (progress.completed, progress.planned, progress.percent) == (2, 2, 100)
    assert progress.proposed_dates == []
    assert progress.maintenance_dates == [
        dt.date(2026, 4, 22),
        dt.date(2026, 5, 22),
        dt.date(2026, 6, 21),
    ]
    assert progress.next_session.kind == NextKind.MAINTENANCE
    assert progress.next_session.ideal == dt.date(2026, 4, 22)


def test_maintenance_comes_due_after_the_maintenance_interval(
    patient: Any, practitioner: Any
) -> None:
    series = planned_series(patient, practitioner, start_on=START, planned_sessions=1)
    signed_session(series, practitioner, london(2026, 3, 2, 10))
    series = series_start_maintenance(series=series)

    assert series_next_window(series, today=dt.date(2026, 3, 20)).status == NextStatus.OPEN
    assert series_next_window(series, today=dt.date(2026, 4, 1)).status == NextStatus.DUE


def test_a_stopped_series_has_no_next_session(series: Any, practitioner: Any) -> None:
    series_stop(series=series, reason="Pregnancy", by=practitioner.user, now=london(2026, 3, 1))
    series.refresh_from_db()

    progress = series_progress(series, today=START)

    assert progress.next_session is None
    assert progress.proposed_dates == []


def test_microneedling_uses_its_own_28_to_42_day_window(patient: Any, practitioner: Any) -> None:
    microneedling = TreatmentType.objects.get(name="Microneedling (nano tip)")
    series = planned_series(patient, practitioner, start_on=START, treatment_type=microneedling)
    signed_session(
        series,
        practitioner,
        london(2026, 3, 2, 10),
        parameters={"cartridge": "12", "depth_mm": 0.5, "speed": 2, "passes": 1},
    )
    series.refresh_from_db()

    window = series_next_window(series, today=START)

    assert (window.earliest, window.latest) == (dt.date(2026, 3, 30), dt.date(2026, 4, 13))


def test_sessions_side_by_side_show_the_trend_of_settings_and_skin_response(
    series: Any, practitioner: Any
) -> None:
    signed_session(series, practitioner, london(2026, 3, 2, 10))
    signed_session(
        series,
        practitioner,
        london(2026, 3, 23, 10),
        parameters={"intensity": 6, "vacuum": 5, "crystal_flow": 4, "passes": 3},
        redness="moderate",
        swelling=True,
    )
    logged_session(
        series, practitioner, london(2026, 4, 13, 10), areas=["face", "neck"], redness="none"
    )

    rows = {row.label: row.cells for row in session_trend(series, series_sessions(series))}

    assert rows["Date"] == ["2 March 2026", "23 March 2026", "13 April 2026"]
    assert rows["Intensity level"] == ["4", "6", "4"]
    assert rows["Passes"] == ["2", "3", "2"]
    assert rows["Redness"] == ["Mild", "Moderate", "None"]
    assert rows["Swelling"] == ["No", "Yes", "No"]
    assert rows["Areas"] == ["Face", "Face", "Face, Neck"]


def test_values_of_a_parameter_removed_from_the_catalogue_stay_visible(
    series: Any, practitioner: Any
) -> None:
    signed_session(series, practitioner, london(2026, 3, 2, 10))
    treatment_type = series.treatment_type
    treatment_type.parameter_schema = treatment_type.parameter_schema[:1]
    treatment_type.save()

    rows = {row.label: row.cells for row in session_trend(series, series_sessions(series))}

    assert rows["Intensity level"] == ["4"]
    assert rows["passes"] == ["2"]


def test_patient_timeline_shows_series_progress_to_all_but_session_detail_to_clinicians(
    series: Any, practitioner: Any, receptionist: Any, patient: Any
) -> None:
    signed_session(series, practitioner, london(2026, 3, 2, 10))

    clinical = [
        e
        for e in timeline.entries_for(patient, user=practitioner.user)
        if e.kind in {"series", "session"}
    ]
    desk = [
        e
        for e in timeline.entries_for(patient, user=receptionist)
        if e.kind in {"series", "session"}
    ]

    series_entry = next(e for e in desk if e.kind == "series")
    session_entry = next(e for e in desk if e.kind == "session")
    assert "1 of 6 sessions" in series_entry.detail
    assert series_entry.url.endswith(f"/series/{series.pk}/")
    assert session_entry.title == "Crystal microdermabrasion session 1 of 6"
    assert (session_entry.detail, session_entry.url) == ("", "")
    assert "Redness mild" in next(e for e in clinical if e.kind == "session").detail
