"""Table-driven tests for the pure treatment rules: no database, no clock, no settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.clock import local_day
from clinic.formats import long_date
from treatments.choices import Contraindication as C
from treatments.choices import ScarType, SkinType, Suitability
from treatments.rules import (
    MICRODERMABRASION_SPACING,
    SUNSCREEN_ADVICE,
    TEST_PATCH_ADVICE,
    AssessmentFacts,
    DomainError,
    OverrideNotAllowed,
    SessionWindow,
    SpacingCheck,
    SpacingPolicy,
    SpacingViolation,
    check_neighbour_spacing,
    check_session_spacing,
    check_treatment_spacing,
    expected_duration_minutes,
    maintenance_schedule,
    propose_remaining_dates,
    reassessment_due,
    screen_assessment,
    series_window,
    suggested_session_count,
)

LONDON = ZoneInfo("Europe/London")
TODAY = date(2026, 3, 10)
POLICY = MICRODERMABRASION_SPACING  # 14 / 28 days, maintenance 30
SESSIONS = {"mild": 4, "moderate": 6, "severe": 8}
FINE = SpacingCheck(overdue=False, overridden=False)


def facts(**changes: object) -> AssessmentFacts:
    """A healthy Fitzpatrick II patient with normal skin, changed as a test needs."""
    values: dict[str, object] = {
        "assessed_on": date(2026, 3, 1),
        "fitzpatrick": 2,
        "skin_type": SkinType.NORMAL,
        "concerns": {"dull_rough": "mild"},
        "scar_type": ScarType.NONE,
        "contraindications": frozenset(),
    }
    values.update(changes)
    return AssessmentFacts(**values)  # type: ignore[arg-type]


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


# --- Screening ------------------------------------------------------------------------------


def test_a_patient_with_nothing_to_note_is_suitable() -> None:
    screening = screen_assessment(facts(), today=TODAY)

    assert screening.outcome == Suitability.SUITABLE
    assert (screening.reasons, screening.advice, screening.limited_benefit) == ((), (), ())
    assert screening.summary == "Suitable"


@pytest.mark.parametrize(
    ("contraindication", "summary", "reason"),
    [
        (C.ACTIVE_ACNE, "Not suitable: active acne", "never treat over active lesions"),
        (C.SEVERE_ACNE, "Not suitable: severe acne", "Severe acne: refer"),
        (C.ROSACEA, "Not suitable: rosacea", "Rosacea:"),
        (C.ECZEMA, "Not suitable: eczema", "Eczema:"),
        (C.FRAGILE_SKIN, "Not suitable: fragile skin", "Very reactive or fragile skin"),
        (C.BROKEN_SKIN, "Not suitable: broken skin or infection", "until it has healed"),
    ],
    ids=["active-acne", "severe-acne", "rosacea", "eczema", "fragile-skin", "broken-skin"],
)
def test_rosacea_and_other_refusals_make_a_patient_not_suitable(
    contraindication: str, summary: str, reason: str
) -> None:
    screening = screen_assessment(facts(contraindications={contraindication}), today=TODAY)

    assert screening.outcome == Suitability.NOT_SUITABLE
    assert screening.summary == summary
    assert len(screening.reasons) == 1
    assert reason in screening.reasons[0]


@pytest.mark.parametrize(
    ("today", "surgery_on", "ticked", "outcome", "reason"),
    [
        (TODAY, None, True, "not_suitable", "no date recorded: treat it as recent"),
        (TODAY, date(2026, 3, 9), True, "not_suitable", "on 9 March 2026, within the last 6"),
        (TODAY, date(2025, 9, 10), True, "not_suitable", "on 10 September 2025, within"),
        (TODAY, date(2025, 9, 9), True, "caution", "6 to 12 months ago: treat only with"),
        (TODAY, date(2025, 3, 11), True, "caution", "surgeon's clearance"),
        (TODAY, date(2025, 3, 10), True, "suitable", None),
        (TODAY, date(2023, 6, 1), True, "suitable", None),
        (TODAY, date(2026, 1, 5), False, "not_suitable", "on 5 January 2026"),
        (TODAY, date(2026, 4, 1), True, "not_suitable", "within the last 6 months"),
        (date(2026, 8, 31), date(2026, 2, 28), True, "not_suitable", "within the last 6"),
        (date(2026, 8, 31), date(2026, 2, 27), True, "caution", "surgeon's clearance"),
        (TODAY, None, False, "suitable", None),
    ],
    ids=[
        "ticked-without-a-date",
        "yesterday",
        "exactly-6-months",
        "6-months-and-a-day",
        "just-under-12-months",
        "exactly-12-months",
        "years-ago",
        "date-without-the-box-ticked",
        "date-in-the-future",
        "6-months-before-31-august-is-28-february",
        "6-months-and-a-day-before-31-august",
        "no-surgery",
    ],
)
def test_recent_facial_surgery_refuses_for_6_months_and_needs_clearance_until_12(
    today: date, surgery_on: date | None, ticked: bool, outcome: str, reason: str | None
) -> None:
    ticks = {C.RECENT_SURGERY} if ticked else set()
    screening = screen_assessment(
        facts(contraindications=ticks, surgery_on=surgery_on), today=today
    )

    assert screening.outcome == outcome
    if reason is None:
        assert screening.reasons == ()
    else:
        assert reason in screening.reasons[0]
    if outcome == "caution":
        assert screening.advice == ("Get the surgeon's clearance before the first session.",)


@pytest.mark.parametrize(
    ("ticks", "text", "outcome", "reasons"),
    [
        ({C.OTHER}, "Isotretinoin until May", "caution", ("Review: Isotretinoin until May",)),
        (set(), "  Pregnant  ", "caution", ("Review: Pregnant",)),
        (
            {C.OTHER},
            "",
            "caution",
            ("Review: other contraindication ticked with no details recorded",),
        ),
        (set(), "   ", "suitable", ()),
    ],
    ids=["ticked-with-details", "details-only", "ticked-without-details", "blank-details"],
)
def test_other_contraindication_asks_for_review_but_never_refuses(
    ticks: set[str], text: str, outcome: str, reasons: tuple[str, ...]
) -> None:
    screening = screen_assessment(
        facts(contraindications=ticks, other_contraindication=text), today=TODAY
    )

    assert (screening.outcome, screening.reasons) == (outcome, reasons)


@pytest.mark.parametrize(
    ("changes", "summary", "reason", "advice"),
    [
        (
            {"skin_type": SkinType.SENSITIVE},
            "Caution: sensitive skin",
            "Sensitive skin: redness can last longer",
            ("Use a lower intensity: sensitive skin.",),
        ),
        (
            {"fitzpatrick": 4},
            "Caution: Fitzpatrick IV",
            "Fitzpatrick type IV: risk of hyperpigmentation",
            (
                "Use a lower intensity: Fitzpatrick type IV skin.",
                TEST_PATCH_ADVICE,
                SUNSCREEN_ADVICE,
            ),
        ),
        (
            {"fitzpatrick": 6},
            "Caution: Fitzpatrick VI",
            "Fitzpatrick type VI: risk of hyperpigmentation",
            (
                "Use a lower intensity: Fitzpatrick type VI skin.",
                TEST_PATCH_ADVICE,
                SUNSCREEN_ADVICE,
            ),
        ),
        (
            {"contraindications": {C.SUN_EXPOSURE}},
            "Caution: recent sun exposure",
            "Recent sun exposure or sunburn: the skin is more sensitive to UV",
            ("Postpone until the skin has settled.", SUNSCREEN_ADVICE),
        ),
        ({"fitzpatrick": 1}, "Suitable", None, ()),
        ({"fitzpatrick": 3}, "Suitable", None, ()),
        ({"skin_type": SkinType.OILY}, "Suitable", None, ()),
    ],
    ids=["sensitive", "fitzpatrick-iv", "fitzpatrick-vi", "sun", "fitz-i", "fitz-iii", "oily"],
)
def test_sensitive_darker_or_sun_exposed_skin_calls_for_caution(
    changes: dict[str, object], summary: str, reason: str | None, advice: tuple[str, ...]
) -> None:
    screening = screen_assessment(facts(**changes), today=TODAY)

    assert screening.summary == summary
    assert screening.advice == advice
    if reason is None:
        assert screening.reasons == ()
    else:
        assert len(screening.reasons) == 1
        assert screening.reasons[0].startswith(reason)


@pytest.mark.parametrize(
    ("scar_type", "outcome", "warning"),
    [
        (ScarType.ICE_PICK, "suitable", "Ice-pick scars: microdermabrasion reaches only"),
        (ScarType.ROLLING, "suitable", "Rolling scars are deep dermal scarring"),
        (ScarType.BOXCAR, "suitable", "Boxcar scars are deep dermal scarring"),
        (ScarType.KELOID, "caution", "Keloid or hypertrophic scars: microdermabrasion will not"),
        (ScarType.SHALLOW, "suitable", None),
        (ScarType.NONE, "suitable", None),
    ],
)
def test_deep_or_raised_scars_warn_of_limited_benefit(
    scar_type: str, outcome: str, warning: str | None
) -> None:
    screening = screen_assessment(facts(scar_type=scar_type), today=TODAY)

    assert screening.outcome == outcome
    if warning is None:
        assert screening.limited_benefit == ()
    else:
        assert len(screening.limited_benefit) == 1
        assert screening.limited_benefit[0].startswith(warning)
    if scar_type == ScarType.KELOID:
        assert screening.summary == "Caution: keloid scars"
        assert screening.advice == ("Refer keloid or hypertrophic scars to a dermatologist.",)


@pytest.mark.parametrize(
    ("changes", "outcome", "summary", "first_reasons"),
    [
        (
            {
                "skin_type": SkinType.SENSITIVE,
                "contraindications": {C.ROSACEA},
                "scar_type": ScarType.ICE_PICK,
            },
            "not_suitable",
            "Not suitable: rosacea",
            ("Rosacea:", "Sensitive skin:"),
        ),
        (
            {"contraindications": {C.ECZEMA, C.ROSACEA, C.SUN_EXPOSURE}},
            "not_suitable",
            "Not suitable: rosacea, eczema",
            ("Rosacea:", "Eczema:", "Recent sun exposure"),
        ),
        (
            {"skin_type": SkinType.SENSITIVE, "fitzpatrick": 5, "scar_type": ScarType.KELOID},
            "caution",
            "Caution: sensitive skin, Fitzpatrick V, keloid scars",
            ("Sensitive skin:", "Fitzpatrick type V:", "Keloid"),
        ),
    ],
    ids=["refusal-beats-caution", "refusals-in-table-order", "cautions-all-named"],
)
def test_the_worst_rule_decides_and_refusals_are_listed_first(
    changes: dict[str, object], outcome: str, summary: str, first_reasons: tuple[str, ...]
) -> None:
    screening = screen_assessment(facts(**changes), today=TODAY)

    assert (screening.outcome, screening.summary) == (outcome, summary)
    assert len(screening.reasons) == len(first_reasons)
    for reason, start in zip(screening.reasons, first_reasons, strict=True):
        assert reason.startswith(start)


def test_advice_shared_by_two_rules_is_given_once() -> None:
    screening = screen_assessment(
        facts(fitzpatrick=5, contraindications={C.SUN_EXPOSURE}), today=TODAY
    )

    assert screening.advice == (
        "Use a lower intensity: Fitzpatrick type V skin.",
        TEST_PATCH_ADVICE,
        SUNSCREEN_ADVICE,
        "Postpone until the skin has settled.",
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"fitzpatrick": 7}, "Unknown Fitzpatrick type: 7"),
        ({"fitzpatrick": 0}, "Unknown Fitzpatrick type: 0"),
        ({"skin_type": "scaly"}, "Unknown skin type: 'scaly'"),
        ({"concerns": {"warts": "mild"}}, "Unknown concern: 'warts'"),
        ({"concerns": {"dull_rough": "extreme"}}, "Unknown severity: 'extreme'"),
        ({"scar_type": "stretch"}, "Unknown scar type: 'stretch'"),
        ({"contraindications": {"flu"}}, "Unknown contraindication: 'flu'"),
    ],
)
def test_assessment_facts_only_accept_the_clinic_vocabulary(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        facts(**changes)


def test_assessment_facts_do_not_change_when_the_callers_dict_does() -> None:
    concerns = {"dull_rough": "mild"}
    recorded = facts(concerns=concerns, contraindications={C.ECZEMA})
    concerns["acne_scars"] = "severe"

    assert dict(recorded.concerns) == {"dull_rough": "mild"}
    assert recorded.contraindications == frozenset({C.ECZEMA})
    with pytest.raises(TypeError):
        recorded.concerns["acne_scars"] = "severe"  # type: ignore[index]


@pytest.mark.parametrize(
    ("assessed_on", "max_age_days", "due"),
    [
        (TODAY, 183, False),
        (TODAY - timedelta(days=183), 183, False),
        (TODAY - timedelta(days=184), 183, True),
        (TODAY + timedelta(days=1), 183, False),
        (TODAY - timedelta(days=31), 30, True),
        (TODAY, 0, False),
    ],
)
def test_an_assessment_older_than_six_months_is_due_again(
    assessed_on: date, max_age_days: int, due: bool
) -> None:
    assert reassessment_due(assessed_on=assessed_on, today=TODAY, max_age_days=max_age_days) is due


def test_a_negative_assessment_age_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        reassessment_due(assessed_on=TODAY, today=TODAY, max_age_days=-1)


# --- Series length --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("concerns", "table", "sessions"),
    [
        ({}, SESSIONS, 4),
        ({"dull_rough": "mild", "oily_skin": "mild", "age_spots": "mild"}, SESSIONS, 4),
        ({"dull_rough": "mild", "acne_scars": "moderate"}, SESSIONS, 6),
        ({"dull_rough": "mild", "acne_scars": "severe"}, SESSIONS, 8),
        ({"oily_skin": "moderate", "acne_scars": "severe", "age_spots": "mild"}, SESSIONS, 8),
        ({"oily_skin": "moderate", "acne_scars": "moderate", "age_spots": "moderate"}, SESSIONS, 7),
        ({"oily_skin": "severe", "acne_scars": "moderate", "age_spots": "severe"}, SESSIONS, 9),
        (
            {"oily_skin": "moderate", "acne_scars": "moderate", "age_spots": "moderate"},
            {"mild": 4, "moderate": 10, "severe": 8},
            10,
        ),
    ],
    ids=[
        "no-concerns-mild-default",
        "all-mild",
        "worst-moderate",
        "worst-severe",
        "two-moderate-or-worse-no-extra",
        "three-moderate-one-extra",
        "three-with-severe-one-extra",
        "extra-capped-at-severe-plus-two",
    ],
)
def test_worse_and_more_numerous_concerns_need_more_sessions(
    concerns: dict[str, str], table: dict[str, int], sessions: int
) -> None:
    assert suggested_session_count(concerns=concerns, sessions_by_severity=table) == sessions


@pytest.mark.parametrize(
    ("concerns", "table", "message"),
    [
        ({}, {"mild": 4, "moderate": 6}, "positive count for 'severe'"),
        ({}, {"mild": 0, "moderate": 6, "severe": 8}, "positive count for 'mild'"),
        ({"oily_skin": "awful"}, SESSIONS, "Unknown severity: 'awful'"),
    ],
)
def test_session_count_refuses_an_incomplete_table_or_unknown_severity(
    concerns: dict[str, str], table: dict[str, int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        suggested_session_count(concerns=concerns, sessions_by_severity=table)


# --- Spacing policy and the next-session window ---------------------------------------------


@pytest.mark.parametrize(
    ("min_days", "max_days", "ideal_days"), [(14, 28, 21), (14, 27, 20), (7, 7, 7), (1, 2, 1)]
)
def test_ideal_interval_is_the_middle_of_the_window_rounded_down(
    min_days: int, max_days: int, ideal_days: int
) -> None:
    policy = SpacingPolicy(min_days=min_days, max_days=max_days, maintenance_days=30)
    assert policy.ideal_days == ideal_days


@pytest.mark.parametrize(
    ("min_days", "max_days", "maintenance_days", "message"),
    [
        (0, 28, 30, "1 <= min_days <= max_days"),
        (29, 28, 30, "1 <= min_days <= max_days"),
        (14, 28, 0, "maintenance_days must be at least 1"),
    ],
)
def test_spacing_policy_refuses_impossible_intervals(
    min_days: int, max_days: int, maintenance_days: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SpacingPolicy(min_days=min_days, max_days=max_days, maintenance_days=maintenance_days)


@pytest.mark.parametrize(
    ("last_session_on", "window"),
    [
        (date(2026, 3, 1), (date(2026, 3, 15), date(2026, 3, 22), date(2026, 3, 29))),
        (date(2026, 1, 31), (date(2026, 2, 14), date(2026, 2, 21), date(2026, 2, 28))),
        (date(2028, 1, 31), (date(2028, 2, 14), date(2028, 2, 21), date(2028, 2, 28))),
        (date(2028, 2, 15), (date(2028, 2, 29), date(2028, 3, 7), date(2028, 3, 14))),
        (date(2026, 12, 20), (date(2027, 1, 3), date(2027, 1, 10), date(2027, 1, 17))),
    ],
    ids=["plain", "31-january-2026", "31-january-leap-2028", "into-29-february", "new-year"],
)
def test_series_window_counts_calendar_days_over_month_ends(
    last_session_on: date, window: tuple[date, date, date]
) -> None:
    assert series_window(last_session_on=last_session_on, policy=POLICY) == SessionWindow(*window)


@pytest.mark.parametrize(
    ("day", "status"),
    [
        (date(2026, 3, 14), "too_early"),
        (date(2026, 3, 15), "open"),
        (date(2026, 3, 21), "open"),
        (date(2026, 3, 22), "closing"),
        (date(2026, 3, 29), "closing"),
        (date(2026, 3, 30), "overdue"),
    ],
)
def test_window_status_warns_in_its_last_week_and_after_it(day: date, status: str) -> None:
    window = series_window(last_session_on=date(2026, 3, 1), policy=POLICY)
    assert window.status_on(day) == status


@pytest.mark.parametrize(
    ("last_session_on", "today", "overdue"),
    [
        (date(2026, 3, 1), date(2026, 3, 29), False),
        (date(2026, 3, 1), date(2026, 3, 30), True),
        (date(2028, 1, 31), date(2028, 2, 28), False),
        (date(2028, 1, 31), date(2028, 2, 29), True),
        (date(2026, 3, 1), date(2026, 3, 2), False),
    ],
)
def test_a_series_is_overdue_the_day_after_its_window_closes(
    last_session_on: date, today: date, overdue: bool
) -> None:
    window = series_window(last_session_on=last_session_on, policy=POLICY)
    assert (window.status_on(today) == "overdue") is overdue


# --- Booking the next session ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("previous_on", "proposed_on", "check"),
    [
        (None, date(2026, 3, 10), FINE),
        (date(2026, 3, 1), date(2026, 3, 15), FINE),
        (date(2026, 3, 1), date(2026, 3, 29), FINE),
        (date(2026, 3, 1), date(2026, 3, 30), SpacingCheck(overdue=True, overridden=False)),
        (date(2028, 2, 15), date(2028, 2, 29), FINE),
    ],
    ids=["first-session", "exactly-14-days", "exactly-28-days", "29-days-overdue", "leap-day"],
)
def test_allows_sessions_from_14_days_later_and_flags_late_ones(
    previous_on: date | None, proposed_on: date, check: SpacingCheck
) -> None:
    assert (
        check_session_spacing(previous_on=previous_on, proposed_on=proposed_on, policy=POLICY)
        == check
    )


@pytest.mark.parametrize(
    ("previous_on", "proposed_on", "reason", "earliest_in_message"),
    [
        (date(2026, 2, 27), date(2026, 3, 12), "", "Friday 13 March 2026"),
        (date(2026, 3, 1), date(2026, 3, 2), "   ", "Sunday 15 March 2026"),
        (date(2028, 2, 15), date(2028, 2, 28), "", "Tuesday 29 February 2028"),
        (date(2026, 3, 1), date(2026, 3, 1), "Patient travelling", "Sunday 15 March 2026"),
        (date(2026, 3, 1), date(2026, 2, 20), "Patient travelling", "Sunday 15 March 2026"),
    ],
    ids=["13-days", "next-day-blank-reason", "leap-year", "same-day-even-with-reason", "before"],
)
def test_refuses_second_session_within_14_days(
    previous_on: date, proposed_on: date, reason: str, earliest_in_message: str
) -> None:
    with pytest.raises(SpacingViolation) as refused:
        check_session_spacing(
            previous_on=previous_on,
            proposed_on=proposed_on,
            policy=POLICY,
            override_reason=reason,
            override_by_practitioner=True,
        )

    assert refused.value.earliest == previous_on + timedelta(days=14)
    assert earliest_in_message in refused.value.message
    assert str(refused.value) == refused.value.message


def test_too_soon_message_says_when_the_next_session_can_be_booked() -> None:
    with pytest.raises(SpacingViolation) as refused:
        check_session_spacing(
            previous_on=date(2026, 2, 27), proposed_on=date(2026, 3, 12), policy=POLICY
        )

    assert refused.value.message == (
        "Too soon: the next session can be booked from Friday 13 March 2026 "
        "(14 days after the last session on 27 February 2026)."
    )


@pytest.mark.parametrize(
    ("reason", "by_practitioner", "outcome"),
    [
        ("Patient emigrates next week", True, SpacingCheck(overdue=False, overridden=True)),
        ("Patient emigrates next week", False, OverrideNotAllowed),
        ("", True, SpacingViolation),
        ("", False, SpacingViolation),
    ],
    ids=["practitioner-with-reason", "receptionist-with-reason", "no-reason", "nobody"],
)
def test_only_a_practitioner_with_a_reason_can_book_inside_the_minimum(
    reason: str, by_practitioner: bool, outcome: SpacingCheck | type[DomainError]
) -> None:
    def book() -> SpacingCheck:
        return check_session_spacing(
            previous_on=date(2026, 3, 1),
            proposed_on=date(2026, 3, 10),
            policy=POLICY,
            override_reason=reason,
            override_by_practitioner=by_practitioner,
        )

    if isinstance(outcome, SpacingCheck):
        assert book() == outcome
    else:
        with pytest.raises(outcome, match="Sunday 15 March 2026") as refused:
            book()
        assert isinstance(refused.value, DomainError)


def test_a_reason_given_when_no_override_is_needed_changes_nothing() -> None:
    check = check_session_spacing(
        previous_on=date(2026, 3, 1),
        proposed_on=date(2026, 3, 20),
        policy=POLICY,
        override_reason="Just in case",
        override_by_practitioner=False,
    )

    assert check == FINE


# --- Clinic-local days across DST -----------------------------------------------------------


@pytest.mark.parametrize(
    ("previous_at", "proposed_at", "utc_gap"),
    [
        (london(2026, 3, 20, 10), london(2026, 4, 3, 10), timedelta(days=13, hours=23)),
        (
            london(2026, 3, 20, 10),
            datetime(2026, 4, 2, 23, 30, tzinfo=UTC),  # 00:30 BST on 3 April
            timedelta(days=13, hours=13, minutes=30),
        ),
    ],
    ids=["10am-to-10am", "just-after-local-midnight"],
)
def test_allows_session_14_local_days_later_across_spring_dst(
    previous_at: datetime, proposed_at: datetime, utc_gap: timedelta
) -> None:
    previous_on, proposed_on = local_day(previous_at, LONDON), local_day(proposed_at, LONDON)

    # Aware datetimes in the same zone subtract as wall-clock times; UTC shows the real gap.
    assert proposed_at.astimezone(UTC) - previous_at.astimezone(UTC) == utc_gap  # < 14 days...
    assert (proposed_on - previous_on).days == 14  # ...but 14 days on the clinic's calendar
    check = check_session_spacing(previous_on=previous_on, proposed_on=proposed_on, policy=POLICY)
    assert check == FINE


@pytest.mark.parametrize(
    ("previous_at", "proposed_at", "utc_gap"),
    [
        (london(2026, 10, 15, 10), london(2026, 10, 29, 10), timedelta(days=14, hours=1)),
        (london(2026, 10, 18, 18), london(2026, 11, 1, 9), timedelta(days=13, hours=16)),
    ],
    ids=["10am-to-10am", "evening-to-morning"],
)
def test_allows_session_14_local_days_later_across_autumn_dst(
    previous_at: datetime, proposed_at: datetime, utc_gap: timedelta
) -> None:
    previous_on, proposed_on = local_day(previous_at, LONDON), local_day(proposed_at, LONDON)

    assert proposed_at.astimezone(UTC) - previous_at.astimezone(UTC) == utc_gap
    assert (proposed_on - previous_on).days == 14
    check = check_session_spacing(previous_on=previous_on, proposed_on=proposed_on, policy=POLICY)
    assert check == FINE


@pytest.mark.parametrize(
    ("previous_at", "proposed_at", "earliest"),
    [
        # 00:30 BST on 12 October is still 11 October in UTC: UTC dates would say 14 days.
        (london(2026, 10, 12, 0, 30), london(2026, 10, 25, 10), "Monday 26 October 2026"),
        (london(2026, 3, 20, 10), london(2026, 4, 2, 23, 59), "Friday 3 April 2026"),
    ],
    ids=["autumn-after-local-midnight", "spring-one-minute-short"],
)
def test_refuses_session_13_local_days_later_across_dst(
    previous_at: datetime, proposed_at: datetime, earliest: str
) -> None:
    with pytest.raises(SpacingViolation, match=earliest):
        check_session_spacing(
            previous_on=local_day(previous_at, LONDON),
            proposed_on=local_day(proposed_at, LONDON),
            policy=POLICY,
        )


# --- Moving a session between its neighbours ------------------------------------------------


@pytest.mark.parametrize(
    ("previous_on", "proposed_on", "next_on", "check"),
    [
        (date(2026, 3, 1), date(2026, 3, 15), date(2026, 3, 29), FINE),
        (None, date(2026, 3, 15), date(2026, 3, 29), FINE),
        (date(2026, 3, 1), date(2026, 3, 20), None, FINE),
        (date(2026, 3, 1), date(2026, 4, 1), date(2026, 4, 20), SpacingCheck(True, False)),
        (None, date(2026, 3, 1), date(2026, 5, 1), SpacingCheck(False, False, next_overdue=True)),
        (None, date(2026, 3, 1), None, FINE),
    ],
    ids=[
        "both-gaps-14",
        "first-session",
        "last-session",
        "late-after-previous",
        "next-left-late",
        "only-session",
    ],
)
def test_moving_a_session_keeps_14_days_from_both_neighbours(
    previous_on: date | None, proposed_on: date, next_on: date | None, check: SpacingCheck
) -> None:
    moved = check_neighbour_spacing(
        previous_on=previous_on, proposed_on=proposed_on, next_on=next_on, policy=POLICY
    )
    assert moved == check


MAR_15, MAR_29 = date(2026, 3, 15), date(2026, 3, 29)


@pytest.mark.parametrize(
    ("previous_on", "proposed_on", "next_on", "says", "earliest", "latest"),
    [
        (
            date(2026, 3, 1),
            date(2026, 3, 10),
            date(2026, 4, 12),
            "only 9 days after the previous session on 1 March 2026; sessions must be at least "
            "14 days apart. It can move to any day from Sunday 15 March 2026 to Sunday 29 March",
            MAR_15,
            MAR_29,
        ),
        (
            date(2026, 3, 1),
            date(2026, 4, 5),
            date(2026, 4, 12),
            "Too close: Sunday 5 April 2026 is only 7 days before the next session on 12 April",
            MAR_15,
            MAR_29,
        ),
        (
            None,
            date(2026, 4, 5),
            date(2026, 4, 12),
            "before the next session on 12 April 2026; sessions must be at least 14 days apart. "
            "It can move to Sunday 29 March 2026 or earlier.",
            None,
            MAR_29,
        ),
        (
            date(2026, 3, 1),
            date(2026, 3, 10),
            date(2026, 3, 20),
            "only 9 days after the previous session on 1 March 2026 and only 10 days before the "
            "next session on 20 March 2026; sessions must be at least 14 days apart. No day fits: "
            "the previous session on 1 March 2026 and the next session on 20 March 2026 are only "
            "19 days apart.",
            None,
            None,
        ),
    ],
    ids=["near-previous", "near-next", "near-next-no-previous", "near-both-no-room"],
)
def test_refuses_a_move_too_close_to_either_neighbour(
    previous_on: date | None,
    proposed_on: date,
    next_on: date,
    says: str,
    earliest: date | None,
    latest: date | None,
) -> None:
    with pytest.raises(SpacingViolation) as refused:
        check_neighbour_spacing(
            previous_on=previous_on, proposed_on=proposed_on, next_on=next_on, policy=POLICY
        )

    assert says in refused.value.message
    assert (refused.value.earliest, refused.value.latest) == (earliest, latest)


@pytest.mark.parametrize(
    ("proposed_on", "reason", "by_practitioner", "outcome"),
    [
        (date(2026, 3, 25), "Surgery booked", True, SpacingCheck(overdue=False, overridden=True)),
        (date(2026, 3, 5), "Surgery booked", True, SpacingCheck(overdue=False, overridden=True)),
        (date(2026, 3, 25), "Surgery booked", False, OverrideNotAllowed),
        (date(2026, 3, 29), "Surgery booked", True, SpacingViolation),
        (date(2026, 4, 5), "Surgery booked", True, SpacingViolation),
        (date(2026, 3, 1), "Surgery booked", True, SpacingViolation),
    ],
    ids=["near-next", "near-previous", "receptionist", "onto-next", "past-next", "onto-previous"],
)
def test_an_override_can_shorten_a_gap_but_never_reorder_the_series(
    proposed_on: date,
    reason: str,
    by_practitioner: bool,
    outcome: SpacingCheck | type[DomainError],
) -> None:
    def move() -> SpacingCheck:
        return check_neighbour_spacing(
            previous_on=date(2026, 3, 1),
            proposed_on=proposed_on,
            next_on=date(2026, 3, 29),
            policy=POLICY,
            override_reason=reason,
            override_by_practitioner=by_practitioner,
        )

    if isinstance(outcome, SpacingCheck):
        assert move() == outcome
    else:
        with pytest.raises(outcome, match="It can move only to Sunday 15 March 2026"):
            move()


def test_neighbours_out_of_order_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="must be after previous_on"):
        check_neighbour_spacing(
            previous_on=date(2026, 4, 1),
            proposed_on=date(2026, 4, 15),
            next_on=date(2026, 4, 1),
            policy=POLICY,
        )


# --- Planning the rest of a series and maintenance ------------------------------------------


@pytest.mark.parametrize(
    ("last_session_on", "start_on", "remaining", "dates"),
    [
        (None, date(2026, 3, 10), 3, [date(2026, 3, 10), date(2026, 3, 31), date(2026, 4, 21)]),
        (date(2026, 3, 1), date(2026, 3, 5), 2, [date(2026, 3, 22), date(2026, 4, 12)]),
        (date(2026, 3, 1), date(2026, 3, 25), 2, [date(2026, 3, 25), date(2026, 4, 15)]),
        (date(2026, 3, 1), date(2026, 4, 10), 1, [date(2026, 4, 10)]),
        (date(2026, 3, 1), date(2026, 3, 5), 0, []),
    ],
    ids=["new-series", "ideal-after-last", "already-past-ideal", "already-overdue", "none-left"],
)
def test_remaining_sessions_are_proposed_at_the_ideal_interval(
    last_session_on: date | None, start_on: date, remaining: int, dates: list[date]
) -> None:
    proposed = propose_remaining_dates(
        last_session_on=last_session_on, start_on=start_on, remaining=remaining, policy=POLICY
    )
    assert proposed == dates


@pytest.mark.parametrize(
    ("count", "dates"),
    [
        (3, [date(2026, 5, 31), date(2026, 6, 30), date(2026, 7, 30)]),
        (1, [date(2026, 5, 31)]),
        (0, []),
    ],
)
def test_maintenance_follows_a_completed_series_monthly(count: int, dates: list[date]) -> None:
    assert maintenance_schedule(completed_on=date(2026, 5, 1), policy=POLICY, count=count) == dates


@pytest.mark.parametrize(
    "plan",
    [
        lambda: propose_remaining_dates(
            last_session_on=None, start_on=TODAY, remaining=-1, policy=POLICY
        ),
        lambda: maintenance_schedule(completed_on=TODAY, policy=POLICY, count=-1),
    ],
    ids=["remaining", "maintenance-count"],
)
def test_planning_a_negative_number_of_sessions_is_refused(plan: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        plan()


policies = st.integers(min_value=1, max_value=45).flatmap(
    lambda min_days: st.builds(
        SpacingPolicy,
        min_days=st.just(min_days),
        max_days=st.integers(min_value=min_days, max_value=90),
        maintenance_days=st.integers(min_value=1, max_value=60),
    )
)
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2032, 12, 31))


@settings(database=None, max_examples=300)
@given(
    policy=policies, last_session_on=st.none() | days, start_on=days, remaining=st.integers(0, 12)
)
def test_proposed_sessions_are_always_between_the_minimum_and_maximum_apart(
    policy: SpacingPolicy, last_session_on: date | None, start_on: date, remaining: int
) -> None:
    proposed = propose_remaining_dates(
        last_session_on=last_session_on, start_on=start_on, remaining=remaining, policy=policy
    )

    assert len(proposed) == remaining
    assert all(day >= start_on for day in proposed)
    for earlier, later in pairwise(proposed):
        assert policy.min_days <= (later - earlier).days <= policy.max_days
        assert check_session_spacing(previous_on=earlier, proposed_on=later, policy=policy) == FINE
    if proposed and last_session_on is not None:
        assert (proposed[0] - last_session_on).days >= policy.min_days
        if start_on <= last_session_on + timedelta(days=policy.max_days):
            assert (proposed[0] - last_session_on).days <= policy.max_days


# --- Session length -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("areas", "minutes"),
    [
        ([], 30),
        (["face"], 30),
        (["face", "neck"], 45),
        (["face", "neck", "chest"], 60),
        (["face", "neck", "chest", "back", "hands"], 90),
        (["face", "face"], 30),
    ],
    ids=["no-areas", "face", "face-and-neck", "face-neck-chest", "five-areas", "face-twice"],
)
def test_a_face_takes_30_minutes_and_each_extra_area_adds_15(
    areas: list[str], minutes: int
) -> None:
    assert (
        expected_duration_minutes(areas=areas, default_minutes=30, extra_area_minutes=15) == minutes
    )


def test_session_length_refuses_impossible_durations() -> None:
    with pytest.raises(ValueError, match="default_minutes >= 1"):
        expected_duration_minutes(areas=["face"], default_minutes=0, extra_area_minutes=15)


# --- Spacing across every session of a treatment, in a series or not -----------------------


@pytest.mark.parametrize(
    ("others", "proposed_on", "earliest", "latest"),
    [
        ([date(2026, 3, 23)], date(2026, 3, 31), date(2026, 4, 6), None),
        ([date(2026, 4, 9)], date(2026, 4, 2), date(2026, 4, 23), date(2026, 3, 26)),
        # Between two sessions 20 days apart: no day fits between them, so on past the later.
        ([date(2026, 3, 1), date(2026, 3, 21)], date(2026, 3, 10), date(2026, 4, 4), None),
    ],
    ids=["after-a-session", "before-a-session", "between-two"],
)
def test_a_session_too_close_to_another_of_the_treatment_names_the_days_it_can_have(
    others: list[date], proposed_on: date, earliest: date, latest: date | None
) -> None:
    with pytest.raises(SpacingViolation) as refused:
        check_treatment_spacing(proposed_on=proposed_on, other_sessions_on=others, policy=POLICY)
    assert (refused.value.earliest, refused.value.latest) == (earliest, latest)
    assert long_date(earliest) in refused.value.message


@pytest.mark.parametrize(
    ("others", "proposed_on"),
    [
        ([], date(2026, 3, 31)),
        ([date(2026, 3, 17)], date(2026, 3, 31)),
        ([date(2026, 4, 14)], date(2026, 3, 31)),
        ([date(2026, 3, 17), date(2026, 4, 14)], date(2026, 3, 31)),
    ],
    ids=["no-other-session", "14-days-after", "14-days-before", "14-days-each-side"],
)
def test_sessions_14_days_apart_are_fine(others: list[date], proposed_on: date) -> None:
    check = check_treatment_spacing(
        proposed_on=proposed_on, other_sessions_on=others, policy=POLICY
    )
    assert check == SpacingCheck(overdue=False, overridden=False)


def test_a_practitioners_reason_overrides_the_treatment_minimum_but_not_the_same_day() -> None:
    others = [date(2026, 3, 23)]
    check = check_treatment_spacing(
        proposed_on=date(2026, 3, 31),
        other_sessions_on=others,
        policy=POLICY,
        override_reason="Event on 2 April",
        override_by_practitioner=True,
    )
    assert check.overridden is True
    with pytest.raises(SpacingViolation, match="the same day as"):
        check_treatment_spacing(
            proposed_on=date(2026, 3, 23),
            other_sessions_on=others,
            policy=POLICY,
            override_reason="Event on 2 April",
            override_by_practitioner=True,
        )
    with pytest.raises(OverrideNotAllowed):
        check_treatment_spacing(
            proposed_on=date(2026, 3, 31),
            other_sessions_on=others,
            policy=POLICY,
            override_reason="Patient asked",
        )
