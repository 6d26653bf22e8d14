"""Planning, re-planning and stopping a series: suitability, suggestions, status changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.builders import (
    assess,
    logged_session,
    london,
    planned_series,
    signed_session,
    treatment_type,
)
from treatments.choices import SeriesStatus, Suitability
from treatments.models import TreatmentType
from treatments.services.series import (
    SeriesError,
    SuitabilityRefused,
    planning_context,
    series_plan,
    series_start_maintenance,
    series_stop,
    series_update_plan,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


def _plan(patient: Any, practitioner: Any, *, by: Any = None, **changes: Any) -> Any:
    values: dict[str, Any] = {
        "patient": patient,
        "treatment_type": treatment_type(),
        "planned_by": practitioner,
        "targeted_concerns": ["uneven_texture"],
        "planned_sessions": 6,
        "start_on": TODAY,
        "by": by or practitioner.user,
        "today": TODAY,
    }
    values.update(changes)
    return series_plan(**values)


def test_planning_refuses_a_patient_whose_latest_screening_is_not_suitable(
    patient: Any, practitioner: Any
) -> None:
    assess(patient, by=practitioner.user, assessed_on=TODAY, contraindications=("rosacea",))

    with pytest.raises(SuitabilityRefused) as refused:
        _plan(patient, practitioner)

    assert "Rosacea: exfoliation inflames it" in refused.value.message
    assert refused.value.field == "override_reason"
    assert not patient.series.exists()


def test_a_practitioner_can_plan_for_a_not_suitable_patient_with_a_recorded_reason(
    patient: Any, practitioner: Any
) -> None:
    assess(patient, by=practitioner.user, assessed_on=TODAY, contraindications=("rosacea",))

    series = _plan(patient, practitioner, override_reason="Dermatologist cleared: letter on file")

    assert series.suitability_override_reason == "Dermatologist cleared: letter on file"
    assert series.screening_outcome == Suitability.NOT_SUITABLE


def test_only_a_practitioner_can_override_not_suitable(
    patient: Any, practitioner: Any, manager: Any
) -> None:
    assess(patient, by=practitioner.user, assessed_on=TODAY, contraindications=("eczema",))

    with pytest.raises(SuitabilityRefused, match="Only a practitioner can override"):
        _plan(patient, practitioner, by=manager, override_reason="Patient insists")


def test_a_caution_patient_can_be_planned_and_the_advice_is_at_hand(
    patient: Any, practitioner: Any
) -> None:
    assess(patient, by=practitioner.user, assessed_on=TODAY, skin_type="sensitive")

    series = _plan(patient, practitioner)
    context = planning_context(patient=patient, today=TODAY)

    assert series.screening_outcome == Suitability.CAUTION
    assert series.suitability_override_reason == ""
    assert context.screening.advice == ("Use a lower intensity: sensitive skin.",)


def test_the_latest_assessment_decides_suitability(patient: Any, practitioner: Any) -> None:
    assess(
        patient,
        by=practitioner.user,
        assessed_on=dt.date(2026, 1, 5),
        contraindications=("active_acne",),
    )
    assess(patient, by=practitioner.user, assessed_on=dt.date(2026, 2, 20))

    series = _plan(patient, practitioner)

    assert series.screening_outcome == Suitability.SUITABLE
    assert series.assessment.assessed_on == dt.date(2026, 2, 20)


def test_planning_needs_a_skin_assessment(patient: Any, practitioner: Any) -> None:
    with pytest.raises(SeriesError, match="Record a skin assessment for Zoë Adeyemi"):
        _plan(patient, practitioner)


@pytest.mark.parametrize(
    ("concerns", "crystal_sessions", "microneedling_sessions"),
    [
        ({}, 4, 3),
        ({"dull_rough": "mild"}, 4, 3),
        ({"acne_scars": "moderate"}, 6, 4),
        ({"hyperpigmentation": "severe"}, 8, 6),
    ],
    ids=["no-concerns", "mild", "moderate", "severe"],
)
def test_the_suggested_session_count_follows_the_worst_concern_and_the_treatment(
    patient: Any,
    practitioner: Any,
    concerns: dict[str, str],
    crystal_sessions: int,
    microneedling_sessions: int,
) -> None:
    assess(patient, by=practitioner.user, assessed_on=TODAY, concerns=concerns)
    context = planning_context(patient=patient, today=TODAY)
    microneedling = TreatmentType.objects.get(name="Microneedling (nano tip)")

    assert context.suggested_sessions(treatment_type()) == crystal_sessions
    assert context.suggested_sessions(microneedling) == microneedling_sessions


def test_an_assessment_older_than_six_months_asks_for_reassessment(
    patient: Any, practitioner: Any
) -> None:
    assess(patient, by=practitioner.user, assessed_on=dt.date(2025, 8, 1))

    assert planning_context(patient=patient, today=TODAY).reassessment_due is True


def test_a_patient_has_one_open_series_per_treatment(patient: Any, practitioner: Any) -> None:
    planned_series(patient, practitioner, start_on=TODAY)

    with pytest.raises(SeriesError, match="already has a planned series of Crystal"):
        _plan(patient, practitioner)
    other = _plan(
        patient, practitioner, treatment_type=TreatmentType.objects.get(modality="diamond")
    )

    assert other.status == SeriesStatus.PLANNED


def test_a_retired_treatment_cannot_be_planned(patient: Any, practitioner: Any) -> None:
    assess(patient, by=practitioner.user, assessed_on=TODAY)
    TreatmentType.objects.filter(pk=treatment_type().pk).update(is_active=False)

    with pytest.raises(SeriesError, match="no longer offered"):
        _plan(patient, practitioner, treatment_type=treatment_type())


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"targeted_concerns": []}, "targeted_concerns"),
        ({"targeted_concerns": ["wrinkles_deep"]}, "targeted_concerns"),
        ({"planned_sessions": 0}, "planned_sessions"),
        ({"planned_sessions": 31}, "planned_sessions"),
        ({"start_on": dt.date(2027, 6, 1)}, "start_on"),
    ],
    ids=["no-concern", "unknown-concern", "no-sessions", "31-sessions", "over-a-year-ahead"],
)
def test_a_plan_is_checked_before_it_is_saved(
    patient: Any, practitioner: Any, changes: dict[str, Any], field: str
) -> None:
    assess(patient, by=practitioner.user, assessed_on=TODAY)

    with pytest.raises(SeriesError) as refused:
        _plan(patient, practitioner, **changes)

    assert refused.value.field == field


def test_the_plan_never_drops_below_the_sessions_already_signed(
    patient: Any, practitioner: Any
) -> None:
    series = planned_series(patient, practitioner, start_on=TODAY, planned_sessions=4)
    signed_session(series, practitioner, london(2026, 3, 2, 10))
    signed_session(series, practitioner, london(2026, 3, 23, 10))

    with pytest.raises(SeriesError, match="Plan between 2 and 30 sessions: 2 are already done"):
        series_update_plan(
            series=series,
            planned_sessions=1,
            targeted_concerns=["uneven_texture"],
            start_on=TODAY,
            today=TODAY,
        )
    series = series_update_plan(
        series=series,
        planned_sessions=2,
        targeted_concerns=["uneven_texture"],
        start_on=TODAY,
        today=TODAY,
    )
    assert series.status == SeriesStatus.COMPLETED
    series = series_update_plan(
        series=series,
        planned_sessions=5,
        targeted_concerns=["uneven_texture"],
        start_on=TODAY,
        today=TODAY,
    )
    assert series.status == SeriesStatus.ACTIVE


def test_the_start_date_is_fixed_once_a_session_is_logged(patient: Any, practitioner: Any) -> None:
    series = planned_series(patient, practitioner, start_on=TODAY)
    logged_session(series, practitioner, london(2026, 3, 2, 10))

    with pytest.raises(SeriesError, match="start date cannot change"):
        series_update_plan(
            series=series,
            planned_sessions=6,
            targeted_concerns=["uneven_texture"],
            start_on=dt.date(2026, 3, 9),
            today=TODAY,
        )


def test_stopping_a_series_needs_a_reason_and_records_who_and_when(
    patient: Any, practitioner: Any
) -> None:
    series = planned_series(patient, practitioner, start_on=TODAY)
    signed_session(series, practitioner, london(2026, 3, 2, 10))

    with pytest.raises(SeriesError, match="Give the reason"):
        series_stop(series=series, reason=" ", by=practitioner.user, now=london(2026, 3, 10))
    series = series_stop(
        series=series,
        reason="Developed rosacea",
        by=practitioner.user,
        now=london(2026, 3, 10, 9),
    )

    assert (series.status, series.stop_reason, series.stopped_by) == (
        SeriesStatus.STOPPED,
        "Developed rosacea",
        practitioner.user,
    )
    assert series.stopped_at == london(2026, 3, 10, 9)


def test_a_series_with_an_unsigned_session_is_not_stopped(patient: Any, practitioner: Any) -> None:
    series = planned_series(patient, practitioner, start_on=TODAY)
    logged_session(series, practitioner, london(2026, 3, 2, 10))

    with pytest.raises(SeriesError, match="Session 1 is logged but not signed"):
        series_stop(
            series=series, reason="Moved away", by=practitioner.user, now=london(2026, 3, 3)
        )


def test_only_a_completed_series_moves_on_to_maintenance(patient: Any, practitioner: Any) -> None:
    series = planned_series(patient, practitioner, start_on=TODAY)

    with pytest.raises(SeriesError, match="Only a completed series"):
        series_start_maintenance(series=series)
