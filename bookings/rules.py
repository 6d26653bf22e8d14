"""Pure booking rules about series sessions: numbering, neighbours and windows.

No ORM and no clock: selectors and services turn rows into :class:`SessionDate` values
(clinic-local days) and pass ``today`` in. The spacing rules themselves live in
:mod:`treatments.rules`; this module decides which dates they are asked about.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from bookings.choices import AppointmentStatus
from clinic import clock
from clinic.errors import DomainError, NotAllowed
from treatments.rules import (
    SessionWindow,
    WindowStatus,
)


class BookingError(DomainError):
    """A booking rule said no; ``message`` is for the person at the desk (HTTP 409)."""

    code = "booking_refused"


class SlotUnavailable(BookingError):
    """The time is taken or outside the hours (double booking, break, closure, notice)."""

    code = "slot_unavailable"


class SuitabilityOverrideRequired(BookingError):
    """The patient's latest assessment says not suitable and no override is recorded.

    ``message`` is for anyone at the desk and names no medical reason; the screening summary
    travels in ``clinical_detail`` (never in the API body), for practitioners' and managers'
    eyes only.
    """

    code = "suitability_override_required"

    def __init__(self, message: str, *, clinical_detail: str = "") -> None:
        super().__init__(message)
        self.clinical_detail = clinical_detail


class InvalidTransition(BookingError):
    """The appointment's status does not allow that action (e.g. checking in a cancelled one)."""

    code = "invalid_transition"


class SeriesFull(BookingError):
    """Every planned session of the series is already booked or done."""

    code = "series_full"


@dataclass(frozen=True, order=True)
class SessionDate:
    """Session ``number`` of a series happened, or is booked, on clinic-local day ``on``."""

    number: int
    on: date


def next_session_number(*, taken: Iterable[int], completed_sessions: int = 0) -> int:
    """The number the next booked session gets: one past the highest held or logged."""
    return max([completed_sessions, *taken], default=0) + 1


def neighbours(*, sessions: Sequence[SessionDate], number: int) -> tuple[date | None, date | None]:
    """The days of the nearest sessions before and after session ``number`` in the series."""
    before = [session for session in sessions if session.number < number]
    after = [session for session in sessions if session.number > number]
    previous_on = max(before).on if before else None
    next_on = min(after).on if after else None
    return previous_on, next_on


DUE_GROUPS: tuple[tuple[str, str], ...] = (
    (WindowStatus.OVERDUE, "Overdue"),
    (WindowStatus.CLOSING, "Window closing within 7 days"),
    (WindowStatus.OPEN, "Window open"),
)


def due_sort_key(*, window: SessionWindow, today: date) -> tuple[int, date]:
    """Most urgent first: overdue (longest overdue first), closing, then open windows."""
    status = window.status_on(today)
    ranks: dict[str, int] = {WindowStatus.OVERDUE: 0, WindowStatus.CLOSING: 1, WindowStatus.OPEN: 2}
    rank = ranks.get(status, 3)
    return rank, window.latest


def search_range_for_window(
    *, window: SessionWindow, today: date, min_days: int = 14
) -> tuple[date, date]:
    """The days a slot search covers by default for a series' next session.

    The window itself, starting no earlier than today; once the window has closed (overdue),
    the next ``min_days`` days from today so the patient is seen as soon as possible.
    """
    first = max(window.earliest, today)
    last = window.latest
    if last < first:
        last = first + timedelta(days=min_days - 1)
    return first, last


@dataclass(frozen=True)
class Candidate:
    """A free start offered for a series session: clinic-local day and minute of the day."""

    day: date
    minute_of_day: int
    practitioner_id: int
    index: int  # position in the caller's list of slots


def best_candidate(
    candidates: Iterable[Candidate],
    *,
    target: date,
    preferred_practitioner_id: int | None,
    preferred_minute: int,
) -> Candidate | None:
    """The slot to propose: closest to the target day, then with the same practitioner as
    before, then closest to the usual time of day (earlier days and times break ties)."""
    return min(
        candidates,
        key=lambda candidate: (
            abs((candidate.day - target).days),
            candidate.practitioner_id != preferred_practitioner_id,
            abs(candidate.minute_of_day - preferred_minute),
            candidate.day,
            candidate.minute_of_day,
        ),
        default=None,
    )


# ---------------------------------------------------------------------------------------------
# Opening and working hours (wall-clock times of a weekday)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoursProblem:
    """Why one row of a week's hours is refused: ``row`` is its position in what was given,
    ``field`` the value to blame (``opens_at``, ``starts_at``, ...)."""

    row: int
    field: str
    message: str


class HoursRefused(BookingError):
    """Opening or working hours the rules refuse; ``problems`` says which rows and why."""

    code = "hours_refused"

    def __init__(self, problems: Sequence[HoursProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(" ".join(problem.message for problem in self.problems))


def _weekday_name(weekday: int) -> str:
    return calendar.day_name[weekday]


def _clock(moment: time) -> str:
    return f"{moment:%H:%M}"


def opening_hours_problems(spans: Sequence[tuple[int, time, time]]) -> list[HoursProblem]:
    """Each span closes after it opens, and spans on one weekday do not overlap."""
    problems: list[HoursProblem] = []
    seen: dict[int, list[tuple[time, time]]] = {}
    for row, (weekday, opens, closes) in enumerate(spans):
        if closes <= opens:
            problems.append(
                HoursProblem(row, "closes_at", "Closing time must be after opening time.")
            )
            continue
        if any(
            opens < other_closes and other_opens < closes
            for other_opens, other_closes in seen.get(weekday, [])
        ):
            problems.append(
                HoursProblem(row, "opens_at", f"Overlaps other hours on {_weekday_name(weekday)}.")
            )
        seen.setdefault(weekday, []).append((opens, closes))
    return problems


def _merged(spans: Iterable[tuple[time, time]]) -> list[tuple[time, time]]:
    merged: list[tuple[time, time]] = []
    for opens, closes in sorted(spans):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return merged


def working_day_problems(
    *,
    row: int,
    weekday: int,
    starts_at: time,
    ends_at: time,
    break_starts_at: time | None,
    break_ends_at: time | None,
    opening: Sequence[tuple[time, time]],
) -> list[HoursProblem]:
    """A practitioner's day: it ends after it starts, a break lies inside it, and every
    worked minute (the break aside) lies inside the clinic's opening hours that weekday."""
    day = _weekday_name(weekday)
    if ends_at <= starts_at:
        return [HoursProblem(row, "ends_at", "The day must end after it starts.")]
    if (break_starts_at is None) != (break_ends_at is None):
        return [HoursProblem(row, "break_ends_at", "Give both the start and the end of the break.")]
    worked = [(starts_at, ends_at)]
    if break_starts_at is not None and break_ends_at is not None:
        if not starts_at <= break_starts_at < break_ends_at <= ends_at:
            return [
                HoursProblem(row, "break_starts_at", "The break must lie inside the working hours.")
            ]
        worked = [(starts_at, break_starts_at), (break_ends_at, ends_at)]
    open_spans = _merged(opening)
    if not open_spans:
        return [
            HoursProblem(
                row,
                "starts_at",
                f"The clinic is closed on {day}s: working hours must lie within its opening hours.",
            )
        ]
    inside = all(
        any(opens <= first and last <= closes for opens, closes in open_spans)
        for first, last in worked
        if first < last
    )
    if inside:
        return []
    hours = ", ".join(f"{_clock(opens)}-{_clock(closes)}" for opens, closes in open_spans)
    return [
        HoursProblem(
            row,
            "starts_at",
            f"Working hours on {day} ({_clock(starts_at)}-{_clock(ends_at)}) must lie within "
            f"the clinic's opening hours that day: {hours}.",
        )
    ]


# --------------------------------------------------------------------------------------------
# Appointment lifecycle: the one transition table
# --------------------------------------------------------------------------------------------

UPCOMING = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
ACTIVE = (*UPCOMING, AppointmentStatus.CHECKED_IN)
# The values of ``clinic.roles.Role`` allowed to complete an appointment (a clinical act).
COMPLETING_ROLES = frozenset({"practitioner", "manager"})


class When(StrEnum):
    """What the clock must say for an action to be allowed."""

    ANY_TIME = "any_time"
    ON_THE_DAY = "on_the_day"  # the clinic-local day of the appointment
    AFTER_START = "after_start"


@dataclass(frozen=True)
class Transition:
    """One action on an appointment: from which statuses, to which, when and by whom.

    ``roles`` empty means anyone who may see the appointment (and a patient's own link);
    otherwise ``doing`` names the act in the refusal. ``label`` is the button's text and
    ``too_soon`` the refusal when the clock says no.
    """

    action: str
    label: str
    sources: tuple[str, ...]
    target: str
    when: When = When.ANY_TIME
    roles: frozenset[str] = frozenset()
    too_soon: str = ""
    doing: str = ""


TRANSITIONS: Mapping[str, Transition] = MappingProxyType(
    {
        transition.action: transition
        for transition in (
            Transition(
                "confirm", "Confirm", (AppointmentStatus.BOOKED,), AppointmentStatus.CONFIRMED
            ),
            Transition(
                "check_in",
                "Check in",
                UPCOMING,
                AppointmentStatus.CHECKED_IN,
                when=When.ON_THE_DAY,
                too_soon="Patients can be checked in only on the day of the appointment.",
            ),
            Transition(
                "no_show",
                "Mark no-show",
                UPCOMING,
                AppointmentStatus.NO_SHOW,
                when=When.AFTER_START,
                too_soon="A patient can be marked as a no-show only after the start time.",
            ),
            Transition(
                "complete",
                "Complete",
                ACTIVE,
                AppointmentStatus.COMPLETED,
                when=When.AFTER_START,
                roles=COMPLETING_ROLES,
                doing="completing appointments",
                too_soon="An appointment can be completed only after it has started.",
            ),
            # Moving keeps the appointment upcoming: the patient has to confirm the new time.
            Transition("move", "Move", UPCOMING, AppointmentStatus.BOOKED),
            Transition("cancel", "Cancel", ACTIVE, AppointmentStatus.CANCELLED),
        )
    }
)
# The status the API asks for -> the action that reaches it.
STATUS_ACTIONS: Mapping[str, str] = MappingProxyType(
    {transition.target: action for action, transition in TRANSITIONS.items() if action != "move"}
)


def _status_label(status: str) -> str:
    return AppointmentStatus(status).label.lower()


def transition_refusal(
    action: str,
    *,
    status: str,
    starts_at: datetime,
    now: datetime,
    tz: ZoneInfo,
    roles: Collection[str] | None,
) -> DomainError | None:
    """Why ``action`` may not happen now, or ``None`` when it may.

    ``roles`` is the acting user's roles, or ``None`` for a patient's own link. The role is
    checked first (:class:`~clinic.errors.NotAllowed`), then the status, then the clock
    (:class:`InvalidTransition`).
    """
    transition = TRANSITIONS[action]
    if transition.roles and not transition.roles & set(roles or ()):
        return NotAllowed(f"Your role does not allow {transition.doing}.")
    if status not in transition.sources:
        if action == "move":
            return InvalidTransition(f"A {_status_label(status)} appointment cannot be moved.")
        target = "cancelled" if action == "cancel" else f"marked {_status_label(transition.target)}"
        return InvalidTransition(
            f"This appointment is {_status_label(status)}: it cannot be {target}."
        )
    if transition.when == When.ON_THE_DAY and clock.local_day(starts_at, tz) != clock.local_day(
        now, tz
    ):
        return InvalidTransition(transition.too_soon)
    if transition.when == When.AFTER_START and starts_at > now:
        return InvalidTransition(transition.too_soon)
    return None


def allowed_actions(
    *,
    status: str,
    starts_at: datetime,
    now: datetime,
    tz: ZoneInfo,
    roles: Collection[str] | None,
) -> tuple[Transition, ...]:
    """The actions an appointment offers this user right now, in the table's order: what the
    pages and the API show, and exactly what the services will accept."""
    return tuple(
        transition
        for action, transition in TRANSITIONS.items()
        if transition_refusal(
            action, status=status, starts_at=starts_at, now=now, tz=tz, roles=roles
        )
        is None
    )
