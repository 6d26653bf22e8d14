"""Logging sessions: spacing in clinic-local days, overrides, parameters, drafts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.builders import (
    CRYSTAL_SETTINGS,
    logged_session,
    london,
    planned_series,
    session_record,
    signed_session,
)
from tests.factories import PractitionerFactory, UserFactory
from treatments.choices import SeriesStatus
from treatments.rules import OverrideNotAllowed, SpacingViolation
from treatments.services.series import series_stop
from treatments.services.sessions import (
    SessionError,
    session_discard,
    session_log,
    session_update_draft,
)

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 3, 2)


@pytest.fixture
def series(patient: Any, practitioner: Any) -> Any:
    return planned_series(patient, practitioner, start_on=MONDAY)


@pytest.fixture
def first_session(series: Any, practitioner: Any) -> Any:
    return signed_session(series, practitioner, london(2026, 3, 2, 10))


def test_refuses_second_session_within_14_days_naming_the_earliest_date(
    series: Any, practitioner: Any, first_session: Any
) -> None:
    with pytest.raises(SpacingViolation) as refused:
        logged_session(series, practitioner, london(2026, 3, 9, 10))

    assert refused.value.earliest == dt.date(2026, 3, 16)
    assert "can be booked from Monday 16 March 2026" in refused.value.message
    assert series.sessions.count() == 1


def test_allows_second_session_exactly_14_days_later(
    series: Any, practitioner: Any, first_session: Any
) -> None:
    session = logged_session(series, practitioner, london(2026, 3, 16, 9))

    assert (session.number, session.overdue, session.spacing_override_reason) == (2, False, "")


def test_a_session_later_than_28_days_is_allowed_and_flagged_overdue(
    series: Any, practitioner: Any, first_session: Any
) -> None:
    on_time = logged_session(series, practitioner, london(2026, 3, 30, 10))
    on_time.delete()

    late = logged_session(series, practitioner, london(2026, 3, 31, 10))

    assert on_time.overdue is False
    assert late.overdue is True


def test_a_practitioner_may_log_inside_the_minimum_with_a_recorded_reason(
    series: Any, practitioner: Any, first_session: Any
) -> None:
    session = logged_session(
        series, practitioner, london(2026, 3, 12, 10), override="Travelling abroad for a month"
    )

    assert session.spacing_override_reason == "Travelling abroad for a month"


def test_an_override_without_a_reason_is_no_override(
    series: Any, practitioner: Any, first_session: Any
) -> None:
    with pytest.raises(SpacingViolation):
        logged_session(series, practitioner, london(2026, 3, 12, 10), override="   ")


def test_only_a_practitioner_can_override_the_minimum(
    series: Any, practitioner: Any, first_session: Any, manager: Any
) -> None:
    with pytest.raises(OverrideNotAllowed, match="Only a practitioner can override"):
        session_log(
            series=series,
            record=session_record(practitioner, london(2026, 3, 12, 10)),
            by=manager,
            now=london(2026, 3, 12, 11),
            spacing_override_reason="Patient asked",
        )


def test_nothing_allows_a_second_session_on_the_same_day(
    series: Any, practitioner: Any, first_session: Any
) -> None:
    with pytest.raises(SpacingViolation, match="cannot be on or before the last session"):
        logged_session(series, practitioner, london(2026, 3, 2, 16), override="Top-up")


def test_allows_session_14_local_days_later_across_the_spring_dst_change(
    patient: Any, practitioner: Any
) -> None:
    series = planned_series(patient, practitioner, start_on=dt.date(2026, 3, 21))
    # 21 March 23:30 GMT and 4 April 00:30 BST are 14 local days apart but only 13 UTC dates.
    signed_session(series, practitioner, london(2026, 3, 21, 23, 30))

    session = logged_session(series, practitioner, london(2026, 4, 4, 0, 30))

    assert session.performed_at.astimezone(dt.UTC).date() == dt.date(2026, 4, 3)
    assert session.number == 2


def test_refuses_13_local_days_across_the_autumn_dst_change_though_utc_dates_are_14_apart(
    patient: Any, practitioner: Any
) -> None:
    series = planned_series(patient, practitioner, start_on=dt.date(2026, 10, 17))
    signed_session(series, practitioner, london(2026, 10, 17, 0, 30))  # 16 October 23:30 UTC

    with pytest.raises(SpacingViolation) as refused:
        logged_session(series, practitioner, london(2026, 10, 30, 23, 30))  # 30 October 22:30 UTC

    assert refused.value.earliest == dt.date(2026, 10, 31)


def test_the_window_after_a_month_end_session_runs_to_the_end_of_february(
    patient: Any, practitioner: Any
) -> None:
    series = planned_series(patient, practitioner, start_on=dt.date(2026, 1, 31))
    signed_session(series, practitioner, london(2026, 1, 31, 10))

    with pytest.raises(SpacingViolation, match="from Saturday 14 February 2026"):
        logged_session(series, practitioner, london(2026, 2, 13, 10))
    assert logged_session(series, practitioner, london(2026, 2, 28, 10)).overdue is False


def test_parameters_outside_their_range_are_refused_field_by_field(
    series: Any, practitioner: Any
) -> None:
    with pytest.raises(SessionError) as refused:
        logged_session(
            series,
            practitioner,
            london(2026, 3, 2, 10),
            parameters={**CRYSTAL_SETTINGS, "passes": 4, "intensity": 11},
        )

    assert refused.value.errors == {
        "parameters.intensity": "Intensity level must be between 1 and 10.",
        "parameters.passes": "Passes must be between 1 and 3.",
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"areas": []}, "areas", "Choose at least one treated area."),
        ({"areas": ["scalp"]}, "areas", "Unknown area: scalp."),
        ({"duration_minutes": 300}, "duration_minutes", "between 5 and 240 minutes"),
        ({"comfort": 6}, "comfort", "between 1 (painful) and 5"),
        ({"redness": "purple"}, "redness", "Choose the redness"),
    ],
    ids=["no-area", "unknown-area", "five-hours", "comfort-6", "unknown-redness"],
)
def test_a_session_record_is_checked_before_it_is_saved(
    series: Any, practitioner: Any, changes: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(SessionError) as refused:
        logged_session(series, practitioner, london(2026, 3, 2, 10), **changes)

    assert message in refused.value.errors[field]


def test_a_session_cannot_be_logged_before_the_day_it_happens(
    series: Any, practitioner: Any
) -> None:
    with pytest.raises(SessionError, match="Tuesday 3 March 2026 is in the future"):
        session_log(
            series=series,
            record=session_record(practitioner, london(2026, 3, 3, 9)),
            by=practitioner.user,
            now=london(2026, 3, 2, 18),
        )


def test_only_one_unsigned_session_per_series(series: Any, practitioner: Any) -> None:
    logged_session(series, practitioner, london(2026, 3, 2, 10))

    with pytest.raises(SessionError, match="Session 1 is logged but not signed yet"):
        logged_session(series, practitioner, london(2026, 3, 20, 10))


def test_a_stopped_series_takes_no_more_sessions(
    series: Any, practitioner: Any, first_session: Any
) -> None:
    series_stop(series=series, reason="Moved away", by=practitioner.user, now=london(2026, 3, 5))

    with pytest.raises(SessionError, match="This series is stopped"):
        logged_session(series, practitioner, london(2026, 3, 20, 10))


def test_sessions_are_numbered_in_order_and_the_series_stays_planned_until_one_is_signed(
    series: Any, practitioner: Any
) -> None:
    session = logged_session(series, practitioner, london(2026, 3, 2, 10))
    series.refresh_from_db()

    assert session.number == 1
    assert (series.status, series.completed_sessions, series.last_session_on) == (
        SeriesStatus.PLANNED,
        0,
        None,
    )


def test_a_draft_can_be_corrected_under_the_same_rules(
    series: Any, practitioner: Any, first_session: Any
) -> None:
    draft = logged_session(series, practitioner, london(2026, 3, 20, 10))

    with pytest.raises(SpacingViolation):
        session_update_draft(
            session=draft,
            record=session_record(practitioner, london(2026, 3, 10, 10)),
            by=practitioner.user,
            now=london(2026, 3, 20, 12),
        )
    session_update_draft(
        session=draft,
        record=session_record(practitioner, london(2026, 3, 20, 11), redness="moderate"),
        by=practitioner.user,
        now=london(2026, 3, 20, 12),
    )
    draft.refresh_from_db()

    assert draft.redness == "moderate"


def test_a_draft_logged_by_mistake_can_be_discarded(series: Any, practitioner: Any) -> None:
    draft = logged_session(series, practitioner, london(2026, 3, 2, 10))

    session_discard(session=draft)

    assert series.sessions.count() == 0


def test_a_signed_session_cannot_be_discarded(
    series: Any, practitioner: Any, first_session: Any
) -> None:
    with pytest.raises(SessionError, match="cannot be discarded"):
        session_discard(session=first_session)


def test_an_inactive_practitioner_cannot_be_recorded_on_a_new_session(
    series: Any, practitioner: Any
) -> None:
    retired = PractitionerFactory(
        display_name="Retired Nurse", user=UserFactory(username="retired"), is_active=False
    )

    with pytest.raises(SessionError) as refused:
        session_log(
            series=series,
            record=session_record(retired, london(2026, 3, 2, 10)),
            by=practitioner.user,
            now=london(2026, 3, 2, 11),
        )

    assert "no longer active" in refused.value.errors["practitioner"]
