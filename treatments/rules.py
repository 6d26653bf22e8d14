"""Pure domain rules for microdermabrasion series: who may be treated, and when.

Values in, a value or a :class:`DomainError` out. Nothing here touches the database, the clock
or settings: callers pass ``today`` in and turn moments into clinic-local calendar dates with
:func:`clinic.clock.local_day` first, so every interval is counted in the days the clinic and
its patients live by (a DST switch never makes 14 days into 13). Days in messages are written by
:mod:`clinic.formats`, the same way as on every page and in every email.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType

from clinic.errors import DomainError
from clinic.formats import long_date, plain_date
from treatments.choices import (
    Concern,
    Contraindication,
    Fitzpatrick,
    ScarType,
    Severity,
    SkinType,
    Suitability,
)

# --------------------------------------------------------------------------------------------
# Domain errors
# --------------------------------------------------------------------------------------------

# The root, :class:`clinic.errors.DomainError`, is imported above and re-exported: code that
# imports ``DomainError`` from here catches every app's refusals.


class SpacingViolation(DomainError):
    """A session would sit too close to a neighbouring session in its series.

    ``earliest`` is the first allowed day after the previous session. ``latest`` is the last
    allowed day before the next booked session (only when moving a session that has one). Each
    is ``None`` when it does not apply, or when no day fits between the two neighbours.
    :func:`check_session_spacing` always sets ``earliest``.
    """

    code = "spacing_violation"
    data_fields = ("earliest",)

    def __init__(self, message: str, *, earliest: date | None, latest: date | None = None) -> None:
        super().__init__(message)
        self.earliest = earliest
        self.latest = latest


class OverrideNotAllowed(DomainError):
    """A booking inside the minimum interval was asked for by someone who may not override it.

    Only a practitioner may override the minimum, and only with a recorded reason. A blank
    reason is no override at all, so that case surfaces as :class:`SpacingViolation`.
    """

    code = "spacing_override_not_allowed"


# --------------------------------------------------------------------------------------------
# Calendar days
# --------------------------------------------------------------------------------------------


def _months_before(day: date, months: int) -> date:
    """The same day of the month ``months`` earlier, clamped to that month's last day."""
    year, month_index = divmod(day.year * 12 + day.month - 1 - months, 12)
    month = month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --------------------------------------------------------------------------------------------
# Assessment and screening
# --------------------------------------------------------------------------------------------


def _require_choice(value: object, allowed: Sequence[object], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"Unknown {what}: {value!r}")


@dataclass(frozen=True)
class AssessmentFacts:
    """What a practitioner recorded at a skin assessment, as plain values.

    Values are checked against the vocabulary in :mod:`treatments.choices` (``ValueError`` on
    anything else); ``concerns`` and ``contraindications`` are copied so the facts stay frozen.
    """

    assessed_on: date
    fitzpatrick: int
    skin_type: str
    concerns: Mapping[str, str]
    scar_type: str
    contraindications: frozenset[str]
    surgery_on: date | None = None
    other_contraindication: str = ""

    def __post_init__(self) -> None:
        _require_choice(self.fitzpatrick, Fitzpatrick.values, "Fitzpatrick type")
        _require_choice(self.skin_type, SkinType.values, "skin type")
        for concern, severity in self.concerns.items():
            _require_choice(concern, Concern.values, "concern")
            _require_choice(severity, Severity.values, "severity")
        _require_choice(self.scar_type, ScarType.values, "scar type")
        for contraindication in self.contraindications:
            _require_choice(contraindication, Contraindication.values, "contraindication")
        object.__setattr__(self, "concerns", MappingProxyType(dict(self.concerns)))
        object.__setattr__(self, "contraindications", frozenset(self.contraindications))


@dataclass(frozen=True)
class Finding:
    """What one screening rule found.

    ``factor`` is a short name for badges ("rosacea"); ``reason`` is the sentence explaining a
    caution or refusal; ``limited_benefit`` warns that the treatment will not help much.
    """

    outcome: str
    factor: str
    reason: str = ""
    advice: tuple[str, ...] = ()
    limited_benefit: str = ""


@dataclass(frozen=True)
class ScreeningRule:
    """A named rule: given the facts and today's date, a :class:`Finding` or ``None``."""

    name: str
    check: Callable[[AssessmentFacts, date], Finding | None]


@dataclass(frozen=True)
class Screening:
    """The result of screening an assessment.

    ``outcome`` is the worst outcome of all findings. ``reasons`` and ``advice`` list the
    refusals first, then the cautions, each in rule-table order without duplicates.
    ``factors`` holds the short names of the findings that set the outcome, for the badge.
    """

    outcome: str
    reasons: tuple[str, ...] = ()
    advice: tuple[str, ...] = ()
    limited_benefit: tuple[str, ...] = ()
    factors: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        """One line for badges: ``"Not suitable: rosacea"``, ``"Caution: sensitive skin"``."""
        label = str(Suitability(self.outcome).label)
        return f"{label}: {', '.join(self.factors)}" if self.factors else label


SURGERY_REFUSAL_MONTHS = 6
SURGERY_CAUTION_MONTHS = 12
DARKER_SKIN_FROM = Fitzpatrick.IV

SUNSCREEN_ADVICE = "Insist on daily sunscreen and avoiding sun exposure between sessions."
TEST_PATCH_ADVICE = "Consider a test patch before the first full session."

_OUTCOME_RANK: Mapping[str, int] = {
    Suitability.SUITABLE: 0,
    Suitability.CAUTION: 1,
    Suitability.NOT_SUITABLE: 2,
}


def _refuse_when_ticked(
    contraindication: Contraindication, *, factor: str, reason: str
) -> Callable[[AssessmentFacts, date], Finding | None]:
    def check(facts: AssessmentFacts, today: date) -> Finding | None:
        if contraindication in facts.contraindications:
            return Finding(Suitability.NOT_SUITABLE, factor, reason)
        return None

    return check


def _recent_facial_surgery(facts: AssessmentFacts, today: date) -> Finding | None:
    """Refuse within 6 months of facial surgery, caution from 6 to 12 months.

    Exactly 6 months ago still counts as recent; exactly 12 months ago is clear. Ticked with no
    date counts as recent. A recorded date applies even if the box is not ticked, and a date
    decides over the box (surgery two years ago is no longer "recent").
    """
    if facts.surgery_on is None:
        if Contraindication.RECENT_SURGERY in facts.contraindications:
            return Finding(
                Suitability.NOT_SUITABLE,
                "recent facial surgery",
                "Recent facial surgery with no date recorded: treat it as recent and do not treat.",
            )
        return None
    on = plain_date(facts.surgery_on)
    if facts.surgery_on >= _months_before(today, SURGERY_REFUSAL_MONTHS):
        return Finding(
            Suitability.NOT_SUITABLE,
            "recent facial surgery",
            f"Recent facial surgery on {on}, within the last {SURGERY_REFUSAL_MONTHS} months: "
            "do not treat.",
        )
    if facts.surgery_on > _months_before(today, SURGERY_CAUTION_MONTHS):
        return Finding(
            Suitability.CAUTION,
            "facial surgery under a year ago",
            f"Facial surgery on {on}, {SURGERY_REFUSAL_MONTHS} to {SURGERY_CAUTION_MONTHS} "
            "months ago: treat only with the surgeon's clearance.",
            advice=("Get the surgeon's clearance before the first session.",),
        )
    return None


def _other_contraindication(facts: AssessmentFacts, today: date) -> Finding | None:
    """Anything else the practitioner noted is theirs to judge: caution, never a refusal."""
    details = facts.other_contraindication.strip()
    if not details and Contraindication.OTHER not in facts.contraindications:
        return None
    return Finding(
        Suitability.CAUTION,
        "other contraindication",
        f"Review: {details or 'other contraindication ticked with no details recorded'}",
    )


def _sensitive_skin(facts: AssessmentFacts, today: date) -> Finding | None:
    if facts.skin_type != SkinType.SENSITIVE:
        return None
    return Finding(
        Suitability.CAUTION,
        "sensitive skin",
        "Sensitive skin: redness can last longer after treatment.",
        advice=("Use a lower intensity: sensitive skin.",),
    )


def _darker_skin(facts: AssessmentFacts, today: date) -> Finding | None:
    if facts.fitzpatrick < DARKER_SKIN_FROM:
        return None
    numeral = Fitzpatrick(facts.fitzpatrick).name
    return Finding(
        Suitability.CAUTION,
        f"Fitzpatrick {numeral}",
        f"Fitzpatrick type {numeral}: risk of hyperpigmentation after treatment.",
        advice=(
            f"Use a lower intensity: Fitzpatrick type {numeral} skin.",
            TEST_PATCH_ADVICE,
            SUNSCREEN_ADVICE,
        ),
    )


def _recent_sun_exposure(facts: AssessmentFacts, today: date) -> Finding | None:
    if Contraindication.SUN_EXPOSURE not in facts.contraindications:
        return None
    return Finding(
        Suitability.CAUTION,
        "recent sun exposure",
        "Recent sun exposure or sunburn: the skin is more sensitive to UV after treatment.",
        advice=("Postpone until the skin has settled.", SUNSCREEN_ADVICE),
    )


def _ice_pick_scars(facts: AssessmentFacts, today: date) -> Finding | None:
    if facts.scar_type != ScarType.ICE_PICK:
        return None
    return Finding(
        Suitability.SUITABLE,
        "ice-pick scars",
        limited_benefit=(
            "Ice-pick scars: microdermabrasion reaches only the epidermis and will not improve "
            "them much."
        ),
    )


def _deep_dermal_scars(facts: AssessmentFacts, today: date) -> Finding | None:
    if facts.scar_type not in (ScarType.ROLLING, ScarType.BOXCAR):
        return None
    kind = ScarType(facts.scar_type).label
    return Finding(
        Suitability.SUITABLE,
        f"{kind.lower()} scars",
        limited_benefit=(
            f"{kind} scars are deep dermal scarring: microdermabrasion reaches only the "
            "epidermis, so expect limited improvement."
        ),
    )


def _keloid_scars(facts: AssessmentFacts, today: date) -> Finding | None:
    # Product decision: treating over keloid or hypertrophic scars is a caution, not a refusal.
    if facts.scar_type != ScarType.KELOID:
        return None
    return Finding(
        Suitability.CAUTION,
        "keloid scars",
        "Keloid or hypertrophic scars: do not treat over the scars.",
        advice=("Refer keloid or hypertrophic scars to a dermatologist.",),
        limited_benefit=(
            "Keloid or hypertrophic scars: microdermabrasion will not flatten them; refer."
        ),
    )


SCREENING_RULES: tuple[ScreeningRule, ...] = (
    # Do not treat / refer.
    ScreeningRule(
        "active inflamed acne",
        _refuse_when_ticked(
            Contraindication.ACTIVE_ACNE,
            factor="active acne",
            reason="Active, inflamed acne: never treat over active lesions.",
        ),
    ),
    ScreeningRule(
        "severe acne",
        _refuse_when_ticked(
            Contraindication.SEVERE_ACNE,
            factor="severe acne",
            reason="Severe acne: refer to a dermatologist instead of treating.",
        ),
    ),
    ScreeningRule(
        "rosacea",
        _refuse_when_ticked(
            Contraindication.ROSACEA,
            factor="rosacea",
            reason="Rosacea: exfoliation inflames it; do not treat.",
        ),
    ),
    ScreeningRule(
        "eczema",
        _refuse_when_ticked(
            Contraindication.ECZEMA,
            factor="eczema",
            reason="Eczema: do not treat; refer to a dermatologist.",
        ),
    ),
    ScreeningRule(
        "very reactive or fragile skin",
        _refuse_when_ticked(
            Contraindication.FRAGILE_SKIN,
            factor="fragile skin",
            reason="Very reactive or fragile skin: do not treat.",
        ),
    ),
    ScreeningRule(
        "broken skin or infection",
        _refuse_when_ticked(
            Contraindication.BROKEN_SKIN,
            factor="broken skin or infection",
            reason="Broken skin or infection in the area: do not treat until it has healed.",
        ),
    ),
    ScreeningRule("recent facial surgery", _recent_facial_surgery),
    # Caution: practitioner judgement, usually at a lower intensity.
    ScreeningRule("other contraindication", _other_contraindication),
    ScreeningRule("sensitive skin", _sensitive_skin),
    ScreeningRule("darker skin (Fitzpatrick IV-VI)", _darker_skin),
    ScreeningRule("recent sun exposure", _recent_sun_exposure),
    # Limited benefit: the treatment reaches only the epidermis.
    ScreeningRule("ice-pick scars", _ice_pick_scars),
    ScreeningRule("deep dermal (rolling or boxcar) scars", _deep_dermal_scars),
    ScreeningRule("keloid or hypertrophic scars", _keloid_scars),
)


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def screen_assessment(
    facts: AssessmentFacts,
    *,
    today: date,
    rules: Sequence[ScreeningRule] = SCREENING_RULES,
) -> Screening:
    """Run every screening rule; the outcome is the worst any rule found (suitable if none)."""
    findings = [found for rule in rules if (found := rule.check(facts, today)) is not None]
    outcome = max(
        (found.outcome for found in findings),
        key=_OUTCOME_RANK.__getitem__,
        default=Suitability.SUITABLE,
    )
    # Stable sort: refusals first, then cautions, each group in rule-table order.
    findings.sort(key=lambda found: -_OUTCOME_RANK[found.outcome])
    return Screening(
        outcome=outcome,
        reasons=_unique(found.reason for found in findings if found.reason),
        advice=_unique(line for found in findings for line in found.advice),
        limited_benefit=_unique(
            found.limited_benefit for found in findings if found.limited_benefit
        ),
        factors=()
        if outcome == Suitability.SUITABLE
        else _unique(found.factor for found in findings if found.outcome == outcome),
    )


def reassessment_due(*, assessed_on: date, today: date, max_age_days: int = 183) -> bool:
    """True once an assessment is more than ``max_age_days`` old (about six months)."""
    if max_age_days < 0:
        raise ValueError(f"max_age_days must not be negative, got {max_age_days}")
    return (today - assessed_on).days > max_age_days


SEVERITY_ORDER: tuple[str, ...] = (Severity.MILD, Severity.MODERATE, Severity.SEVERE)
BUSY_SKIN_CONCERNS = 3


def suggested_session_count(
    *, concerns: Mapping[str, str], sessions_by_severity: Mapping[str, int]
) -> int:
    """How many sessions to plan for a series, from the concerns' severities.

    The rule:

    1. No concerns: the mild count.
    2. Otherwise the worst severity among the concerns picks the count from
       ``sessions_by_severity`` (e.g. ``{"mild": 4, "moderate": 6, "severe": 8}``).
    3. Add one session when 3 or more concerns are moderate or severe, never going above the
       severe count + 2.

    ``sessions_by_severity`` must give a positive count for every severity (``ValueError``
    otherwise), as must every concern's severity be a :class:`Severity` value.
    """
    for severity in SEVERITY_ORDER:
        sessions = sessions_by_severity.get(severity)
        if sessions is None or sessions < 1:
            raise ValueError(f"sessions_by_severity needs a positive count for {str(severity)!r}")
    severities = list(concerns.values())
    for severity in severities:
        _require_choice(severity, SEVERITY_ORDER, "severity")
    if not severities:
        return sessions_by_severity[Severity.MILD]
    worst = max(severities, key=SEVERITY_ORDER.index)
    sessions = sessions_by_severity[worst]
    if sum(severity != Severity.MILD for severity in severities) >= BUSY_SKIN_CONCERNS:
        sessions = min(sessions + 1, sessions_by_severity[Severity.SEVERE] + 2)
    return sessions


# --------------------------------------------------------------------------------------------
# Spacing a series
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpacingPolicy:
    """A treatment type's intervals in clinic-local days: series minimum and maximum, upkeep."""

    min_days: int
    max_days: int
    maintenance_days: int

    def __post_init__(self) -> None:
        if not 1 <= self.min_days <= self.max_days:
            raise ValueError(
                f"Need 1 <= min_days <= max_days, got min_days={self.min_days}, "
                f"max_days={self.max_days}"
            )
        if self.maintenance_days < 1:
            raise ValueError(f"maintenance_days must be at least 1, got {self.maintenance_days}")

    @property
    def ideal_days(self) -> int:
        """The middle of the window, rounded down: 21 for 14-28."""
        return (self.min_days + self.max_days) // 2


MICRODERMABRASION_SPACING = SpacingPolicy(min_days=14, max_days=28, maintenance_days=30)

CLOSING_NOTICE_DAYS = 7


class WindowStatus(StrEnum):
    """The one vocabulary for where today sits against a series' next session: the series
    page, the series list, the due list, follow-ups and maintenance all use it."""

    PLANNED = "planned"  # no session yet and the planned start is still ahead
    TOO_EARLY = "too_early"
    OPEN = "open"
    CLOSING = "closing"
    OVERDUE = "overdue"
    DUE = "due"  # maintenance: the usual interval has passed


WINDOW_STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {
        WindowStatus.PLANNED: "Not started",
        WindowStatus.TOO_EARLY: "Too early",
        WindowStatus.OPEN: "Window open",
        WindowStatus.CLOSING: "Window closing",
        WindowStatus.OVERDUE: "Overdue",
        WindowStatus.DUE: "Maintenance due",
    }
)


@dataclass(frozen=True)
class SessionWindow:
    """When the next session in a series may be: from ``earliest`` to ``latest``, best ``ideal``.

    ``first`` is the window of a series' first session (no session yet).
    """

    earliest: date
    ideal: date
    latest: date
    first: bool = False

    def status_on(self, day: date) -> str:
        """``planned`` or ``too_early`` before the window (``planned`` for a first session),
        ``open``, ``closing`` (last 7 days, latest included) or ``overdue``."""
        if day < self.earliest:
            return WindowStatus.PLANNED if self.first else WindowStatus.TOO_EARLY
        if day > self.latest:
            return WindowStatus.OVERDUE
        if (self.latest - day).days <= CLOSING_NOTICE_DAYS:
            return WindowStatus.CLOSING
        return WindowStatus.OPEN


def series_window(
    *, last_session_on: date | None, policy: SpacingPolicy, start_on: date | None = None
) -> SessionWindow:
    """When the next session of a series may be: the one window rule.

    After a session: ``min_days`` to ``max_days`` after it, ideally ``ideal_days``. Before the
    first session: from the planned ``start_on``, closing as long after it as a spacing window
    lasts (``max_days - min_days``), so an unstarted series turns closing and then overdue
    like any other, on its own page and on the due list alike.
    """
    if last_session_on is None:
        if start_on is None:
            raise ValueError("A series with no session yet needs its planned start_on")
        return SessionWindow(
            earliest=start_on,
            ideal=start_on,
            latest=start_on + timedelta(days=policy.max_days - policy.min_days),
            first=True,
        )
    return SessionWindow(
        earliest=last_session_on + timedelta(days=policy.min_days),
        ideal=last_session_on + timedelta(days=policy.ideal_days),
        latest=last_session_on + timedelta(days=policy.max_days),
    )


def maintenance_due_on(*, last_session_on: date, policy: SpacingPolicy) -> date:
    """The day an upkeep session is due after a completed series' last session."""
    return last_session_on + timedelta(days=policy.maintenance_days)


def maintenance_status(*, last_session_on: date, today: date, policy: SpacingPolicy) -> str:
    """``too_early`` within ``min_days`` of the last session, ``open`` until maintenance is due,
    then ``due``."""
    if today < series_window(last_session_on=last_session_on, policy=policy).earliest:
        return WindowStatus.TOO_EARLY
    if today < maintenance_due_on(last_session_on=last_session_on, policy=policy):
        return WindowStatus.OPEN
    return WindowStatus.DUE


@dataclass(frozen=True)
class SpacingCheck:
    """A booking the spacing rules accept, with what staff should be told about it.

    ``overdue``: later than the window after the previous session (allowed, flagged).
    ``overridden``: earlier than the minimum, allowed by a practitioner's recorded reason.
    ``next_overdue``: moving this session leaves the next booked one later than its window.
    """

    overdue: bool
    overridden: bool
    next_overdue: bool = False


def _override_or_raise(
    violation: SpacingViolation, *, policy: SpacingPolicy, reason: str, by_practitioner: bool
) -> bool:
    """Accept a practitioner's reasoned override of the minimum, or raise why not."""
    if not reason.strip():
        raise violation
    if not by_practitioner:
        raise OverrideNotAllowed(
            f"Only a practitioner can override the {policy.min_days}-day minimum, with a "
            f"recorded reason. {violation.message}"
        )
    return True


def check_session_spacing(
    *,
    previous_on: date | None,
    proposed_on: date,
    policy: SpacingPolicy,
    override_reason: str = "",
    override_by_practitioner: bool = False,
) -> SpacingCheck:
    """Check the next session of a series against the last one (dates are clinic-local).

    The first session is always fine. A session before ``previous_on + min_days`` raises
    :class:`SpacingViolation` naming the earliest day, unless a practitioner gives a reason
    (then it is ``overridden``); a reason from anyone else raises :class:`OverrideNotAllowed`.
    Nothing allows the same day as the last session or earlier. Later than ``max_days`` is
    allowed and flagged ``overdue``. A reason given when no override is needed is ignored.
    """
    if previous_on is None:
        return SpacingCheck(overdue=False, overridden=False)
    earliest = previous_on + timedelta(days=policy.min_days)
    last = plain_date(previous_on)
    if proposed_on <= previous_on:
        raise SpacingViolation(
            f"Too soon: a session cannot be on or before the last session on {last}; the next "
            f"session can be booked from {long_date(earliest)}.",
            earliest=earliest,
        )
    overridden = False
    if proposed_on < earliest:
        overridden = _override_or_raise(
            SpacingViolation(
                f"Too soon: the next session can be booked from {long_date(earliest)} "
                f"({policy.min_days} days after the last session on {last}).",
                earliest=earliest,
            ),
            policy=policy,
            reason=override_reason,
            by_practitioner=override_by_practitioner,
        )
    return SpacingCheck(
        overdue=(proposed_on - previous_on).days > policy.max_days, overridden=overridden
    )


def _days_between_neighbours(
    *, previous_on: date | None, next_on: date | None, policy: SpacingPolicy
) -> tuple[str, date | None, date | None]:
    """The sentence saying where a moved session can go, with its earliest and latest day."""
    min_gap = timedelta(days=policy.min_days)
    if previous_on is not None and next_on is not None:
        earliest, latest = previous_on + min_gap, next_on - min_gap
        if earliest > latest:
            return (
                f"No day fits: the previous session on {plain_date(previous_on)} "
                f"and the next session on {plain_date(next_on)} are only "
                f"{(next_on - previous_on).days} days apart.",
                None,
                None,
            )
        if earliest == latest:
            return f"It can move only to {long_date(earliest)}.", earliest, latest
        return (
            f"It can move to any day from {long_date(earliest)} to {long_date(latest)}.",
            earliest,
            latest,
        )
    if previous_on is not None:
        earliest = previous_on + min_gap
        return f"It can move to {long_date(earliest)} or later.", earliest, None
    if next_on is not None:
        latest = next_on - min_gap
        return f"It can move to {long_date(latest)} or earlier.", None, latest
    return "", None, None


def check_neighbour_spacing(
    *,
    previous_on: date | None,
    proposed_on: date,
    next_on: date | None,
    policy: SpacingPolicy,
    override_reason: str = "",
    override_by_practitioner: bool = False,
) -> SpacingCheck:
    """Check moving a session between its neighbours in the series (dates are clinic-local).

    Both gaps must be at least ``min_days``; the message names the neighbour that is too close
    and the days the session can move to. The override works as in
    :func:`check_session_spacing`, but nothing lets a session land on or past either neighbour
    (that would reorder the series). ``next_overdue`` flags a gap to the next session longer
    than ``max_days``. ``ValueError`` if ``next_on`` is not after ``previous_on``.
    """
    if previous_on is not None and next_on is not None and next_on <= previous_on:
        raise ValueError(f"next_on ({next_on}) must be after previous_on ({previous_on})")
    min_gap = timedelta(days=policy.min_days)
    options, earliest, latest = _days_between_neighbours(
        previous_on=previous_on, next_on=next_on, policy=policy
    )
    proposed = long_date(proposed_on)

    if previous_on is not None and proposed_on <= previous_on:
        raise SpacingViolation(
            f"A session cannot move to {proposed}, on or before the previous session on "
            f"{plain_date(previous_on)}. {options}",
            earliest=earliest,
            latest=latest,
        )
    if next_on is not None and proposed_on >= next_on:
        raise SpacingViolation(
            f"A session cannot move to {proposed}, on or after the next session on "
            f"{plain_date(next_on)}. {options}",
            earliest=earliest,
            latest=latest,
        )

    too_close: list[str] = []
    if previous_on is not None and (proposed_on - previous_on) < min_gap:
        too_close.append(
            f"only {(proposed_on - previous_on).days} days after the previous session on "
            f"{plain_date(previous_on)}"
        )
    if next_on is not None and (next_on - proposed_on) < min_gap:
        too_close.append(
            f"only {(next_on - proposed_on).days} days before the next session on "
            f"{plain_date(next_on)}"
        )
    overridden = False
    if too_close:
        overridden = _override_or_raise(
            SpacingViolation(
                f"Too close: {proposed} is {' and '.join(too_close)}; sessions must be at least "
                f"{policy.min_days} days apart. {options}",
                earliest=earliest,
                latest=latest,
            ),
            policy=policy,
            reason=override_reason,
            by_practitioner=override_by_practitioner,
        )
    return SpacingCheck(
        overdue=previous_on is not None and (proposed_on - previous_on).days > policy.max_days,
        overridden=overridden,
        next_overdue=next_on is not None and (next_on - proposed_on).days > policy.max_days,
    )


def _first_spaced_day(*, start: date, others: Sequence[date], gap: int, forward: bool) -> date:
    """The first day from ``start`` (walking forward or back) at least ``gap`` days from each
    of ``others``. Each step jumps past a clashing session, so the walk ends."""
    day, step = start, timedelta(days=gap)
    while clashes := [other for other in others if abs((day - other).days) < gap]:
        day = max(clashes) + step if forward else min(clashes) - step
    return day


def check_treatment_spacing(
    *,
    proposed_on: date,
    other_sessions_on: Iterable[date],
    policy: SpacingPolicy,
    treatment: str = "",
    override_reason: str = "",
    override_by_practitioner: bool = False,
) -> SpacingCheck:
    """Any two sessions of one treatment for one patient sit at least ``policy.min_days`` apart,
    whether they are booked in a series, in another series or as one-offs (dates are
    clinic-local; ``other_sessions_on`` are the patient's other held or logged sessions).

    Too close raises :class:`SpacingViolation` with ``earliest``, the first day from
    ``proposed_on`` on that keeps the gap to every other session (and ``latest``, the last day
    before it that does, when only a later session is too close). A practitioner's recorded
    reason overrides it as in :func:`check_session_spacing`; nothing allows the same day as
    another session of the treatment.
    """
    others = sorted(set(other_sessions_on))
    gap = policy.min_days
    clashes = [other for other in others if abs((proposed_on - other).days) < gap]
    if not clashes:
        return SpacingCheck(overdue=False, overridden=False)
    nearest = min(clashes, key=lambda other: (abs((proposed_on - other).days), other))
    days = (proposed_on - nearest).days
    apart = f"{abs(days)} day{'' if abs(days) == 1 else 's'}"
    if days == 0:
        relation = "the same day as"
    elif days > 0:
        relation = f"only {apart} after"
    else:
        relation = f"only {apart} before"
    earliest = _first_spaced_day(start=proposed_on, others=others, gap=gap, forward=True)
    latest = None
    options = f"It can be booked from {long_date(earliest)}"
    if all(other > proposed_on for other in clashes):
        latest = _first_spaced_day(start=proposed_on, others=others, gap=gap, forward=False)
        options += f", or on or before {long_date(latest)}"
    what = f"{treatment} session" if treatment else "session of this treatment"
    violation = SpacingViolation(
        f"Too close: {long_date(proposed_on)} is {relation} another {what} on "
        f"{plain_date(nearest)}; sessions must be at least {gap} days apart. "
        f"{options}.",
        earliest=earliest,
        latest=latest,
    )
    if days == 0:
        raise violation
    overridden = _override_or_raise(
        violation,
        policy=policy,
        reason=override_reason,
        by_practitioner=override_by_practitioner,
    )
    return SpacingCheck(overdue=False, overridden=overridden)


def propose_remaining_dates(
    *, last_session_on: date | None, start_on: date, remaining: int, policy: SpacingPolicy
) -> list[date]:
    """Dates for the rest of a series, ``policy.ideal_days`` apart.

    With no session yet, the first date is ``start_on``. Otherwise it is the ideal day after
    the last session, or ``start_on`` if that is later (a patient already past the ideal day
    is offered the first day they can have, even if that is overdue).
    """
    if remaining < 0:
        raise ValueError(f"remaining must not be negative, got {remaining}")
    step = timedelta(days=policy.ideal_days)
    first = start_on if last_session_on is None else max(last_session_on + step, start_on)
    return [first + step * index for index in range(remaining)]


def maintenance_schedule(
    *, completed_on: date, policy: SpacingPolicy, count: int = 3
) -> list[date]:
    """Upkeep sessions after a completed series, every ``policy.maintenance_days``."""
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    step = timedelta(days=policy.maintenance_days)
    return [completed_on + step * number for number in range(1, count + 1)]


# --------------------------------------------------------------------------------------------
# Session length
# --------------------------------------------------------------------------------------------

# How long a treatment, a session and an appointment may last: the catalogue, the session log
# and the booking services all check against these two numbers.
MIN_DURATION_MINUTES = 5
MAX_DURATION_MINUTES = 240


def expected_duration_minutes(
    *, areas: Sequence[str], default_minutes: int, extra_area_minutes: int
) -> int:
    """How long a session takes: the treatment's default covers the first area (the face),
    each further area (neck, chest, ...) adds ``extra_area_minutes``. No areas: the default."""
    if default_minutes < 1 or extra_area_minutes < 0:
        raise ValueError(
            f"Need default_minutes >= 1 and extra_area_minutes >= 0, got {default_minutes} "
            f"and {extra_area_minutes}"
        )
    extra_areas = max(0, len(set(areas)) - 1)
    return default_minutes + extra_areas * extra_area_minutes
