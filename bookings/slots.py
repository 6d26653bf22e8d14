"""Pure availability rules: when can an appointment start?

Values in, values out: no ORM, no clock, no settings. The selector
(:func:`bookings.selectors.free_slots`) loads everything for a date range in a fixed number
of queries and calls :func:`find_free_slots`; the booking services call
:func:`why_unavailable` for the one start they are asked to book.

Times of day (opening hours, working hours, breaks) are wall-clock times in the clinic's
zone, applied to each calendar day separately, so a 10:00 slot stays 10:00 local on both
sides of a daylight-saving change. Moments (appointments, time off, ``earliest_start``) are
aware datetimes; arithmetic on durations is done on absolute time.

Occupancy: an appointment keeps its practitioner and room busy over
``[start, start + duration + buffer)`` (the cleanup buffer), and its patient busy over
``[start, start + duration)``. The appointment itself (not its buffer) must fit inside the
opening hours and the practitioner's working hours, outside breaks and time off.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from clinic.clock import local_datetime, local_day
from clinic.formats import clock_time, long_date, long_datetime, short_datetime, weekday

SLOT_STEP_MINUTES = 15


@dataclass(frozen=True, order=True)
class Interval:
    """``[start, end)`` between two aware moments."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for moment in (self.start, self.end):
            if moment.tzinfo is None:
                raise ValueError(f"Interval needs aware datetimes, got {moment!r}")
        if self.end <= self.start:
            raise ValueError(f"Interval must end after it starts: {self.start} to {self.end}")

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end


@dataclass(frozen=True)
class DayHours:
    """Wall-clock hours on a weekday, with an optional break (working hours)."""

    starts_at: time
    ends_at: time
    break_starts_at: time | None = None
    break_ends_at: time | None = None

    def __post_init__(self) -> None:
        if self.ends_at <= self.starts_at:
            raise ValueError(f"Hours must end after they start: {self.starts_at}-{self.ends_at}")
        if (self.break_starts_at is None) != (self.break_ends_at is None):
            raise ValueError("A break needs both a start and an end")
        if self.break_starts_at is not None and self.break_ends_at is not None:
            inside = self.starts_at <= self.break_starts_at < self.break_ends_at <= self.ends_at
            if not inside:
                raise ValueError("A break must lie inside the hours")


class _Busy:
    """Sorted, non-merged busy intervals with a fast overlap test."""

    def __init__(self, intervals: Iterable[Interval]) -> None:
        self._intervals = sorted(intervals, key=lambda interval: (interval.start, interval.end))
        self._starts = [interval.start for interval in self._intervals]
        self._ends = [interval.end for interval in self._intervals]
        # Longest interval bounds how far back an overlapping interval can start.
        self._longest = max(
            (interval.end - interval.start for interval in self._intervals), default=timedelta(0)
        )

    def first_overlap(self, wanted: Interval) -> Interval | None:
        low = bisect.bisect_left(self._starts, wanted.start - self._longest)
        high = bisect.bisect_left(self._starts, wanted.end)
        for interval in self._intervals[low:high]:
            if interval.overlaps(wanted):
                return interval
        return None

    def between(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """``(start, end)`` of every interval overlapping ``[start, end)``."""
        low = bisect.bisect_left(self._starts, start - self._longest)
        high = bisect.bisect_left(self._starts, end, low)
        return [
            (self._starts[index], self._ends[index])
            for index in range(low, high)
            if start < self._ends[index]
        ]

    def overlap_end(self, start: datetime, end: datetime) -> datetime | None:
        """The end of the first interval overlapping ``[start, end)``, or ``None``."""
        if not self._starts:
            return None
        low = bisect.bisect_left(self._starts, start - self._longest)
        high = bisect.bisect_left(self._starts, end, low)
        for index in range(low, high):
            interval_end = self._ends[index]
            if start < interval_end:
                return interval_end
        return None


@dataclass(frozen=True)
class PractitionerDiary:
    """What a practitioner's days look like: weekly hours, time off and booked time."""

    practitioner_id: int
    name: str
    hours: Mapping[int, DayHours]  # weekday (Monday 0) -> hours
    time_off: Sequence[Interval] = ()
    booked: Sequence[Interval] = ()  # [start, blocked_until) of active appointments


@dataclass(frozen=True)
class RoomDiary:
    room_id: int
    name: str
    booked: Sequence[Interval] = ()  # [start, blocked_until) of active appointments


@dataclass(frozen=True)
class ClinicCalendar:
    """The clinic's opening hours (several spans a weekday allowed) and closed days."""

    tz: ZoneInfo
    opening: Mapping[int, Sequence[tuple[time, time]]]
    closures: frozenset[date] = frozenset()
    closure_reasons: Mapping[date, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SlotRequest:
    """What must fit: the appointment length, its cleanup buffer, and from when."""

    duration: timedelta
    buffer: timedelta
    earliest_start: datetime  # now + minimum notice
    latest_start: datetime | None = None  # now + booking horizon
    patient_booked: Sequence[Interval] = ()  # [start, end) of the patient's active appointments

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0):
            raise ValueError("An appointment must last longer than zero minutes")
        if self.buffer < timedelta(0):
            raise ValueError("A buffer cannot be negative")


@dataclass(frozen=True)
class Slot:
    """A free start for one practitioner, with the rooms free for it (first is preferred)."""

    starts_at: datetime  # UTC
    ends_at: datetime
    practitioner_id: int
    room_ids: tuple[int, ...]


def _span(day: date, start: time, end: time, tz: ZoneInfo) -> Interval | None:
    start_at = local_datetime(day, start, tz)
    end_at = local_datetime(day, end, tz)
    if start_at is None or end_at is None or end_at <= start_at:
        return None
    return Interval(start_at, end_at)


@dataclass(frozen=True)
class _Context:
    calendar: ClinicCalendar
    request: SlotRequest
    patient_busy: _Busy


def _clinic_problem(
    appointment: Interval, day: date, context: _Context, *, now_label: str
) -> str | None:
    calendar, request = context.calendar, context.request
    tz = calendar.tz
    if appointment.start < request.earliest_start:
        return (
            f"Too late to book {now_label}: appointments need at least the minimum booking "
            f"notice (earliest {short_datetime(request.earliest_start, tz)})."
        )
    if request.latest_start is not None and appointment.start > request.latest_start:
        return (
            "Too far ahead: appointments can be booked up to "
            f"{long_date(local_day(request.latest_start, tz))}."
        )
    if day in calendar.closures:
        reason = calendar.closure_reasons.get(day, "")
        return f"The clinic is closed on {long_date(day)}{f' ({reason})' if reason else ''}."
    spans = [
        span
        for opens, closes in calendar.opening.get(day.weekday(), ())
        if (span := _span(day, opens, closes, tz)) is not None
    ]
    if not spans:
        return f"The clinic is not open on {weekday(day)}s."
    if not any(span.contains(appointment) for span in spans):
        hours = ", ".join(
            f"{clock_time(span.start, tz)}-{clock_time(span.end, tz)}" for span in spans
        )
        return f"Outside opening hours ({hours}) on {long_date(day)}."
    clash = context.patient_busy.first_overlap(appointment)
    if clash is not None:
        return (
            f"The patient already has an appointment from {clock_time(clash.start, tz)} to "
            f"{clock_time(clash.end, tz)} that day."
        )
    return None


def _practitioner_problem(
    appointment: Interval, occupied: Interval, day: date, diary: PractitionerDiary, tz: ZoneInfo
) -> str | None:
    hours = diary.hours.get(day.weekday())
    if hours is None:
        return f"{diary.name} does not work on {weekday(day)}s."
    working = _span(day, hours.starts_at, hours.ends_at, tz)
    if working is None or not working.contains(appointment):
        opens, closes = clock_time(hours.starts_at), clock_time(hours.ends_at)
        return f"Outside {diary.name}'s working hours ({opens}-{closes})."
    if hours.break_starts_at is not None and hours.break_ends_at is not None:
        pause = _span(day, hours.break_starts_at, hours.break_ends_at, tz)
        if pause is not None and pause.overlaps(appointment):
            return (
                f"{diary.name} is on a break from {clock_time(hours.break_starts_at)} to "
                f"{clock_time(hours.break_ends_at)}."
            )
    for absence in diary.time_off:
        if absence.overlaps(appointment):
            return f"{diary.name} is off from {short_datetime(absence.start, tz)} to " + (
                f"{short_datetime(absence.end, tz)}."
            )
    clash = _Busy(diary.booked).first_overlap(occupied) if diary.booked else None
    if clash is not None:
        return (
            f"{diary.name} is already booked from {clock_time(clash.start, tz)} to "
            f"{clock_time(clash.end, tz)} (including cleanup time)."
        )
    return None


def _free_rooms(
    occupied: Interval, rooms: Sequence[RoomDiary], busy: Mapping[int, _Busy]
) -> list[int]:
    return [room.room_id for room in rooms if busy[room.room_id].first_overlap(occupied) is None]


def off_grid_problem(
    starts_at: datetime, tz: ZoneInfo, *, step_minutes: int = SLOT_STEP_MINUTES
) -> str | None:
    """Appointments start on the clinic's 15-minute grid (wall clock :00, :15, :30, :45):
    the grid the booking form promises, slot search offers and the calendars draw. ``None``
    when ``starts_at`` is on it, else a message naming the two nearest starts."""
    local = starts_at.astimezone(tz)
    if local.minute % step_minutes == 0 and local.second == 0 and local.microsecond == 0:
        return None
    before = local.replace(
        minute=local.minute - local.minute % step_minutes, second=0, microsecond=0
    )
    after = before + timedelta(minutes=step_minutes)
    return (
        f"Appointments start on the quarter hour: {clock_time(before, tz)} or "
        f"{clock_time(after, tz)}, not {clock_time(local, tz)}."
    )


def why_unavailable(
    *,
    starts_at: datetime,
    calendar: ClinicCalendar,
    request: SlotRequest,
    diary: PractitionerDiary,
    rooms: Sequence[RoomDiary],
) -> tuple[str | None, tuple[int, ...]]:
    """Check one start for one practitioner.

    Returns ``(None, free_room_ids)`` when it can be booked, or ``(message, ())`` naming the
    first rule it breaks, in words for the person at the desk. The first rule is the grid
    (:func:`off_grid_problem`): every booking and move of every path comes through here.
    """
    if starts_at.tzinfo is None:
        raise ValueError("starts_at must be aware")
    tz = calendar.tz
    off_grid = off_grid_problem(starts_at, tz)
    if off_grid is not None:
        return off_grid, ()
    appointment = Interval(starts_at, starts_at + request.duration)
    occupied = Interval(starts_at, appointment.end + request.buffer)
    day = local_day(starts_at, tz)
    context = _Context(calendar, request, _Busy(request.patient_booked))
    label = long_datetime(starts_at, tz)
    problem = _clinic_problem(appointment, day, context, now_label=label)
    if problem is None:
        problem = _practitioner_problem(appointment, occupied, day, diary, tz)
    if problem is not None:
        return problem, ()
    if not rooms:
        return "No room is set up to host this treatment: a manager can assign rooms.", ()
    busy = {room.room_id: _Busy(room.booked) for room in rooms}
    free = _free_rooms(occupied, rooms, busy)
    if not free:
        names = ", ".join(room.name for room in rooms)
        return (
            f"No room is free at {clock_time(starts_at, tz)} for this treatment ({names} "
            "already booked).",
            (),
        )
    return None, tuple(free)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def grid_starts(day: date, tz: ZoneInfo, *, step_minutes: int = SLOT_STEP_MINUTES) -> list:
    """Every wall-clock start of a day on the grid (00, 15, 30, 45), as UTC moments.

    Times that do not exist that day (skipped by a spring-forward change) are left out.
    """
    return list(_grid_starts(day, tz, step_minutes))


@lru_cache(maxsize=1024)
def _grid_starts(day: date, tz: ZoneInfo, step_minutes: int) -> tuple[datetime, ...]:
    """Cached: a fortnight's search asks for the same days' grids on every request."""
    starts = []
    for minute in range(0, 24 * 60, step_minutes):
        moment = local_datetime(day, time(minute // 60, minute % 60), tz)
        if moment is not None:
            starts.append(moment)
    return tuple(starts)


def _subtract(
    ranges: list[tuple[datetime, datetime]], cuts: Iterable[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """Closed ranges ``[first, last]`` minus open ranges ``(low, high)``."""
    for low, high in sorted(cuts):
        kept = []
        for first, last in ranges:
            if high <= first or last <= low:
                kept.append((first, last))
                continue
            if first <= low:
                kept.append((first, low))
            if high <= last:
                kept.append((high, last))
        ranges = kept
        if not ranges:
            break
    return ranges


def _merge(ranges: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """The union of closed ranges, as sorted disjoint ranges."""
    merged: list[tuple[datetime, datetime]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1]:
            if last > merged[-1][1]:
                merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return merged


def _intersect(
    left: list[tuple[datetime, datetime]], right: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """Where two lists of sorted disjoint closed ranges overlap."""
    both = []
    left, right = sorted(left), sorted(right)
    i = j = 0
    while i < len(left) and j < len(right):
        first = max(left[i][0], right[j][0])
        last = min(left[i][1], right[j][1])
        if first <= last:
            both.append((first, last))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return both


def _possible_starts(
    *,
    spans: Sequence[Interval],
    window: tuple[Interval, Interval | None],
    time_off: _Busy,
    booked: _Busy,
    request: SlotRequest,
) -> list[tuple[datetime, datetime]]:
    """Closed ranges of starts at which a practitioner can take the appointment on a day.

    A start ``s`` works when ``[s, s + duration)`` lies in one opening span and the working
    hours, overlaps neither the break nor time off, and ``[s, s + duration + buffer)``
    overlaps no booking. So: ``[piece start, piece end - duration]`` for each open piece,
    minus ``(off start - duration, off end)`` for the break and time off, minus
    ``(booked start - duration - buffer, booked end)`` for each booking.
    """
    working, pause = window
    duration = request.duration
    ranges = []
    for span in spans:
        first = max(span.start, working.start, request.earliest_start)
        last = min(span.end, working.end) - duration
        if request.latest_start is not None:
            last = min(last, request.latest_start)
        if first <= last:
            ranges.append((first, last))
    if not ranges:
        return []
    day_start = min(first for first, _ in ranges)
    day_end = max(last for _, last in ranges) + duration + request.buffer
    away = [(start - duration, end) for start, end in time_off.between(day_start, day_end)]
    if pause is not None:
        away.append((pause.start - duration, pause.end))
    taken = duration + request.buffer
    away.extend((start - taken, end) for start, end in booked.between(day_start, day_end))
    return _subtract(ranges, away)


def find_free_slots(
    *,
    first_day: date,
    last_day: date,
    calendar: ClinicCalendar,
    request: SlotRequest,
    diaries: Sequence[PractitionerDiary],
    rooms: Sequence[RoomDiary],
    step_minutes: int = SLOT_STEP_MINUTES,
) -> list[Slot]:
    """Every free start on the grid from ``first_day`` to ``last_day`` (clinic-local days).

    Sorted by start, then by the order of ``diaries``. A start is free for a practitioner
    when the clinic is open for the whole appointment, the practitioner works then (not on a
    break or time off), the practitioner and at least one capable room are free for the
    appointment plus its buffer, the patient (if given) has nothing else then, and the start
    respects the minimum notice and the booking horizon.
    """
    if last_day < first_day or not rooms:
        return []
    tz = calendar.tz
    room_busy = {room.room_id: _Busy(room.booked) for room in rooms}
    practitioner_busy = {diary.practitioner_id: _Busy(diary.booked) for diary in diaries}
    practitioner_off = {diary.practitioner_id: _Busy(diary.time_off) for diary in diaries}
    patient_busy = _Busy(request.patient_booked)
    slots: list[Slot] = []
    for day in days_between(first_day, last_day):
        if day in calendar.closures:
            continue
        spans = [
            span
            for opens, closes in calendar.opening.get(day.weekday(), ())
            if (span := _span(day, opens, closes, tz)) is not None
        ]
        if not spans:
            continue
        windows = {}
        for diary in diaries:
            hours = diary.hours.get(day.weekday())
            if hours is None:
                continue
            working = _span(day, hours.starts_at, hours.ends_at, tz)
            if working is None:
                continue
            pause = None
            if hours.break_starts_at is not None and hours.break_ends_at is not None:
                pause = _span(day, hours.break_starts_at, hours.break_ends_at, tz)
            windows[diary.practitioner_id] = (working, pause)
        if not windows:
            continue
        grid = _grid_starts(day, tz, step_minutes)
        # Interval arithmetic per practitioner and day: the starts that work are the grid
        # points inside "open and working, minus break and time off" (shortened by the
        # length), minus every booking widened back by length and buffer. Only those starts
        # are then checked against the patient and the rooms, instead of testing each of the
        # day's 96 starts against each practitioner's diary.
        candidates: dict[datetime, list[int]] = {}
        taken = request.duration + request.buffer
        some_room = _merge(
            [
                piece
                for busy in room_busy.values()
                for piece in _subtract(
                    [(grid[0], grid[-1])],
                    [
                        (start - taken, end)
                        for start, end in busy.between(grid[0], grid[-1] + taken)
                    ],
                )
            ]
        )
        for index, diary in enumerate(diaries):
            window = windows.get(diary.practitioner_id)
            if window is None:
                continue
            possible = _possible_starts(
                spans=spans,
                window=window,
                time_off=practitioner_off[diary.practitioner_id],
                booked=practitioner_busy[diary.practitioner_id],
                request=request,
            )
            # Only where some room is free too: the rooms are checked one by one below, for
            # the starts that are left.
            for first, last in _intersect(possible, some_room):
                low = bisect.bisect_left(grid, first)
                high = bisect.bisect_right(grid, last)
                for start in grid[low:high]:
                    candidates.setdefault(start, []).append(index)
        for start in sorted(candidates):
            end = start + request.duration
            if patient_busy.overlap_end(start, end) is not None:
                continue
            occupied_until = end + request.buffer
            free_rooms = tuple(
                room.room_id
                for room in rooms
                if room_busy[room.room_id].overlap_end(start, occupied_until) is None
            )
            if not free_rooms:
                continue
            for index in sorted(candidates[start]):
                slots.append(Slot(start, end, diaries[index].practitioner_id, free_rooms))
    return slots
