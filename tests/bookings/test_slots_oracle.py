"""The slot search's interval arithmetic agrees with the rules read literally: for random
diaries, every grid start of every day is tried against every practitioner (open for the
whole appointment, working, not on a break or time off, free with the buffer, a room free,
the patient free, notice and horizon respected) and the two lists must be the same."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bookings import slots

LONDON = ZoneInfo("Europe/London")
FIRST_DAY = dt.date(2026, 3, 27)  # Friday to Monday: across the clocks going forward
LAST_DAY = dt.date(2026, 3, 30)
MINUTE = dt.timedelta(minutes=1)


def at(day: dt.date, minutes: int) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(0), tzinfo=LONDON) + minutes * MINUTE
    return local.astimezone(dt.UTC)


def literal_free_slots(
    *, calendar, request, diaries, rooms, first_day, last_day
) -> list[slots.Slot]:
    tz = calendar.tz
    found = []
    for day in slots.days_between(first_day, last_day):
        if day in calendar.closures:
            continue
        for start in slots.grid_starts(day, tz):
            end = start + request.duration
            occupied = slots.Interval(start, end + request.buffer)
            appointment = slots.Interval(start, end)
            if start < request.earliest_start:
                continue
            if request.latest_start is not None and start > request.latest_start:
                continue
            opening = [
                span
                for opens, closes in calendar.opening.get(day.weekday(), ())
                if (span := slots._span(day, opens, closes, tz)) is not None
            ]
            if not any(span.contains(appointment) for span in opening):
                continue
            if any(busy.overlaps(appointment) for busy in request.patient_booked):
                continue
            free_rooms = tuple(
                room.room_id
                for room in rooms
                if not any(busy.overlaps(occupied) for busy in room.booked)
            )
            if not free_rooms:
                continue
            for diary in diaries:
                hours = diary.hours.get(day.weekday())
                if hours is None:
                    continue
                working = slots._span(day, hours.starts_at, hours.ends_at, tz)
                if working is None or not working.contains(appointment):
                    continue
                if hours.break_starts_at is not None:
                    pause = slots._span(day, hours.break_starts_at, hours.break_ends_at, tz)
                    if pause is not None and pause.overlaps(appointment):
                        continue
                if any(off.overlaps(appointment) for off in diary.time_off):
                    continue
                if any(busy.overlaps(occupied) for busy in diary.booked):
                    continue
                found.append(slots.Slot(start, end, diary.practitioner_id, free_rooms))
    return found


def intervals(max_size: int) -> st.SearchStrategy[list[slots.Interval]]:
    one = st.builds(
        lambda day, start, length: slots.Interval(at(day, start), at(day, start) + length * MINUTE),
        st.sampled_from(slots.days_between(FIRST_DAY, LAST_DAY)),
        # Five-minute steps, so edges often meet the 15-minute grid exactly.
        st.integers(6 * 12, 20 * 12).map(lambda step: step * 5),
        st.integers(1, 48).map(lambda step: step * 5),
    )
    return st.lists(one, max_size=max_size)


hours = st.builds(
    lambda start, length, pause: slots.DayHours(
        dt.time(start // 60, start % 60),
        dt.time((start + length) // 60, (start + length) % 60),
        *(
            (
                dt.time((start + pause) // 60, (start + pause) % 60),
                dt.time((start + pause + 30) // 60, (start + pause + 30) % 60),
            )
            if pause is not None and pause + 30 <= length
            else (None, None)
        ),
    ),
    st.sampled_from([7 * 60, 8 * 60 + 30, 9 * 60, 10 * 60 + 5]),
    st.integers(2 * 60, 10 * 60),
    st.one_of(st.none(), st.integers(60, 6 * 60)),
)
diaries = st.lists(
    st.builds(
        lambda week, off, booked: (week, off, booked),
        st.dictionaries(st.integers(0, 6), hours, max_size=7),
        intervals(3),
        intervals(12),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(
    diaries=diaries,
    room_bookings=st.lists(intervals(8), min_size=1, max_size=3),
    patient=intervals(3),
    duration=st.integers(1, 24).map(lambda step: step * 5),
    buffer=st.sampled_from([0, 5, 10, 15]),
    notice=st.integers(0, 3 * 24 * 4).map(lambda step: step * 15),
    horizon=st.one_of(st.none(), st.integers(0, 5 * 24 * 60)),
    closed=st.sets(st.sampled_from(slots.days_between(FIRST_DAY, LAST_DAY)), max_size=1),
    two_spans=st.booleans(),
)
def test_the_slot_search_finds_exactly_the_starts_the_rules_allow(
    diaries, room_bookings, patient, duration, buffer, notice, horizon, closed, two_spans
):
    opening = (
        [(dt.time(8), dt.time(12, 30)), (dt.time(13, 30), dt.time(19))]
        if two_spans
        else [(dt.time(8), dt.time(19))]
    )
    calendar = slots.ClinicCalendar(
        tz=LONDON, opening=dict.fromkeys(range(7), opening), closures=frozenset(closed)
    )
    now = at(FIRST_DAY, 0)
    request = slots.SlotRequest(
        duration=duration * MINUTE,
        buffer=buffer * MINUTE,
        earliest_start=now + notice * MINUTE,
        latest_start=None if horizon is None else now + horizon * MINUTE,
        patient_booked=tuple(patient),
    )
    practitioner_diaries = [
        slots.PractitionerDiary(
            practitioner_id=index + 1,
            name=f"P{index}",
            hours=week,
            time_off=tuple(off),
            booked=tuple(booked),
        )
        for index, (week, off, booked) in enumerate(diaries)
    ]
    rooms = [
        slots.RoomDiary(room_id=10 + index, name=f"Room {index}", booked=tuple(booked))
        for index, booked in enumerate(room_bookings)
    ]
    arguments = {
        "calendar": calendar,
        "request": request,
        "diaries": practitioner_diaries,
        "rooms": rooms,
        "first_day": FIRST_DAY,
        "last_day": LAST_DAY,
    }

    assert slots.find_free_slots(**arguments) == literal_free_slots(**arguments)
