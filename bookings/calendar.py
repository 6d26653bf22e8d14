"""Pure layout of the calendar grid: rows of 15 minutes, one column per practitioner or day.

The selector loads appointments and availability; :func:`layout_grid` decides, for every row
and column, whether the cell starts an appointment card (spanning its rows), is covered by
one, is free to book, is cleanup time, or is unavailable. The template renders the result as
an HTML table with ``rowspan``, so no inline styles or scripts are needed.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bookings.slots import SLOT_STEP_MINUTES, Interval
from clinic.clock import local_datetime


@dataclass(slots=True)
class Card:
    """One appointment as the calendars draw it, built from a plain row (no models)."""

    pk: int
    practitioner_id: int
    status: str
    status_label: str
    starts_at: datetime
    ends_at: datetime
    blocked_until: datetime
    local_start: datetime
    local_end: datetime
    patient_name: str
    treatment_name: str
    session_label: str
    patient_suitability: str
    patient_suitability_summary: str
    overdue: bool
    has_override: bool
    cancellation_reason: str = ""


@dataclass(frozen=True)
class GridEntry:
    """Something to draw: an appointment with its start, end and cleanup end."""

    start: datetime
    end: datetime
    blocked_until: datetime
    item: Any
    active: bool = True


@dataclass(frozen=True)
class Placement:
    """Where one card sits inside its cell: ``offset_minutes`` below the cell's first row,
    ``minutes`` tall, in lane ``lane`` of ``lanes`` side by side (overlapping cards)."""

    item: Any
    offset_minutes: int
    minutes: int
    lane: int
    lanes: int


@dataclass
class Cell:
    kind: str  # "card", "covered", "free", "buffer", "closed", "past"
    start: datetime | None = None
    rowspan: int = 1
    entries: list[Any] = field(default_factory=list)
    column: Column | None = None
    placements: list[Placement] = field(default_factory=list)


@dataclass(frozen=True)
class Column:
    key: Any
    label: str
    entries: Sequence[GridEntry]
    open: Sequence[Interval]  # when this column can take bookings
    day: date | None = None
    extra: Any = None


@dataclass
class Row:
    start: datetime
    label: str
    cells: list[Cell]


def row_starts(
    day: date, first: time, last: time, tz: ZoneInfo, step_minutes: int = SLOT_STEP_MINUTES
) -> list[datetime]:
    """Wall-clock row starts from ``first`` up to (not including) ``last`` on a day."""
    starts = []
    minute = first.hour * 60 + first.minute - (first.minute % step_minutes)
    end = last.hour * 60 + last.minute
    while minute < end:
        moment = local_datetime(day, time(minute // 60, minute % 60), tz)
        if moment is not None:
            starts.append(moment)
        minute += step_minutes
    return starts


def _clusters(entries: Sequence[GridEntry]) -> list[list[GridEntry]]:
    """Group overlapping entries (an old no-show or a completed appointment under a new
    booking) into one cell, in start order; :func:`_lanes` sets them side by side."""
    clusters: list[list[GridEntry]] = []
    cluster_end: datetime | None = None
    for entry in sorted(entries, key=lambda entry: (entry.start, not entry.active)):
        if clusters and cluster_end is not None and entry.start < cluster_end:
            clusters[-1].append(entry)
            cluster_end = max(cluster_end, entry.end)
        else:
            clusters.append([entry])
            cluster_end = entry.end
    return clusters


def _lanes(cluster: Sequence[GridEntry]) -> tuple[list[int], int]:
    """Each entry's lane (first lane free at its start) and how many lanes the cluster needs.

    Entries come in start order; an entry that overlaps none still running shares lane 0.
    """
    lane_ends: list[datetime] = []
    lanes = []
    for entry in cluster:
        for lane, lane_end in enumerate(lane_ends):
            if lane_end <= entry.start:
                lane_ends[lane] = entry.end
                lanes.append(lane)
                break
        else:
            lane_ends.append(entry.end)
            lanes.append(len(lane_ends) - 1)
    return lanes, len(lane_ends)


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def layout_grid(
    *,
    rows: Sequence[datetime],
    columns: Sequence[Column],
    bookable_from: datetime,
    tz: ZoneInfo,
    step_minutes: int = SLOT_STEP_MINUTES,
) -> list[Row]:
    """Place every column's entries on the rows; mark the other cells.

    An entry covers every row it overlaps. A free cell is one whose whole row lies in the
    column's open time, after ``bookable_from``, outside any appointment and its buffer.
    Entries outside the rows are not drawn; callers choose rows that cover them.
    """
    step = timedelta(minutes=step_minutes)
    grid: list[list[Cell]] = [[Cell("closed") for _ in columns] for _ in rows]
    # Rows are in time order: the rows an entry covers (row < end and start < row + step)
    # are one run of indices, found by bisection instead of testing every row.
    row_list = list(rows)
    for column_index, column in enumerate(columns):
        blocked: list[tuple[datetime, datetime]] = []
        for cluster in _clusters(column.entries):
            start = min(entry.start for entry in cluster)
            end = max(entry.end for entry in cluster)
            first = bisect_right(row_list, start - step)
            last = bisect_left(row_list, end)
            if first >= last:
                continue
            lanes, lane_count = _lanes(cluster)
            grid[first][column_index] = Cell(
                "card",
                start=start,
                rowspan=last - first,
                entries=[entry.item for entry in cluster],
                # Cards sit at their own start, not the cell's: 10:07 is 7 minutes into
                # the 10:00 row, and a card booked into a completed one's time beside it.
                placements=[
                    Placement(
                        item=entry.item,
                        offset_minutes=_minutes(entry.start - row_list[first]),
                        minutes=max(_minutes(entry.end - entry.start), 1),
                        lane=lane,
                        lanes=lane_count,
                    )
                    for entry, lane in zip(cluster, lanes, strict=True)
                ],
            )
            for index in range(first + 1, last):
                grid[index][column_index] = Cell("covered")
            blocked.extend((entry.start, entry.blocked_until) for entry in cluster if entry.active)
        open_spans = [(span.start, span.end) for span in column.open]
        if not open_spans:
            continue
        for index, row in enumerate(row_list):
            cell = grid[index][column_index]
            if cell.kind != "closed":
                continue
            row_end = row + step
            if not any(start <= row and row_end <= end for start, end in open_spans):
                continue
            if any(start < row_end and row < end for start, end in blocked):
                grid[index][column_index] = Cell("buffer", start=row)
            elif row < bookable_from:
                grid[index][column_index] = Cell("past", start=row)
            else:
                grid[index][column_index] = Cell("free", start=row)
    for cells in grid:
        for column, cell in zip(columns, cells, strict=True):
            cell.column = column
    return [
        Row(start=row, label=row.astimezone(tz).strftime("%H:%M"), cells=grid[index])
        for index, row in enumerate(rows)
    ]
