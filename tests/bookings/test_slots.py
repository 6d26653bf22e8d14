"""Pure slot rules: no database, times in Europe/London (DST on Sunday 29 March 2026)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bookings import slots

LONDON = ZoneInfo("Europe/London")
MONDAY = dt.date(2026, 3, 23)
NOTICE_FROM = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

WEEKDAY_HOURS = slots.DayHours(dt.time(9), dt.time(18), dt.time(13), dt.time(13, 45))


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON).astimezone(dt.UTC)


def clinic(**overrides: object) -> slots.ClinicCalendar:
    values: dict = {
        "tz": LONDON,
        "opening": {weekday: [(dt.time(8), dt.time(20))] for weekday in range(6)},
    }
    values.update(overrides)
    return slots.ClinicCalendar(**values)


def diary(practitioner_id: int = 1, name: str = "Amara Okafor", **overrides: object):
    values: dict = {
        "practitioner_id": practitioner_id,
        "name": name,
        "hours": dict.fromkeys(range(5), WEEKDAY_HOURS),
    }
    values.update(overrides)
    return slots.PractitionerDiary(**values)


def request(**overrides: object) -> slots.SlotRequest:
    values: dict = {
        "duration": dt.timedelta(minutes=30),
        "buffer": dt.timedelta(minutes=10),
        "earliest_start": NOTICE_FROM,
    }
    values.update(overrides)
    return slots.SlotRequest(**values)


ROOM = slots.RoomDiary(10, "Room 1")


def local_starts(found: list[slots.Slot], practitioner_id: int = 1) -> list[str]:
    return [
        slot.starts_at.astimezone(LONDON).strftime("%a %H:%M")
        for slot in found
        if slot.practitioner_id == practitioner_id
    ]


def search(day: dt.date = MONDAY, last: dt.date | None = None, **kwargs: object):
    return slots.find_free_slots(
        first_day=day,
        last_day=last or day,
        calendar=kwargs.pop("calendar", clinic()),
        request=kwargs.pop("request", request()),
        diaries=kwargs.pop("diaries", [diary()]),
        rooms=kwargs.pop("rooms", [ROOM]),
    )


def test_free_starts_lie_on_a_15_minute_grid_inside_working_hours():
    starts = local_starts(search())
    assert starts[0] == "Mon 09:00"
    assert starts[-1] == "Mon 17:30"  # a 30-minute appointment must end by 18:00
    assert all(start[-2:] in {"00", "15", "30", "45"} for start in starts)


def test_no_appointment_runs_into_the_practitioners_break():
    starts = local_starts(search())
    assert "Mon 12:30" in starts  # ends 13:00, as the break starts
    assert "Mon 12:45" not in starts
    assert "Mon 13:00" not in starts
    assert "Mon 13:30" not in starts
    assert "Mon 13:45" in starts


def test_opening_hours_cut_working_hours_short():
    calendar = clinic(opening={0: [(dt.time(10), dt.time(16))]})
    starts = local_starts(search(calendar=calendar))
    assert starts[0] == "Mon 10:00"
    assert starts[-1] == "Mon 15:30"


def test_existing_appointment_blocks_its_time_and_cleanup_buffer():
    booked = slots.Interval(at(MONDAY, 10), at(MONDAY, 10, 40))  # 10:00-10:30 + 10 min buffer
    starts = local_starts(search(diaries=[diary(booked=[booked])]))
    assert "Mon 09:15" in starts  # ends 09:45, cleaned by 09:55
    assert "Mon 09:30" not in starts  # its own buffer would run to 10:10
    assert "Mon 10:00" not in starts
    assert "Mon 10:30" not in starts  # still cleaning until 10:40
    assert "Mon 10:45" in starts


def test_time_off_removes_those_hours():
    off = slots.Interval(at(MONDAY, 14), at(MONDAY, 16))
    starts = local_starts(search(diaries=[diary(time_off=[off])]))
    assert "Mon 13:45" not in starts  # would end 14:15
    assert "Mon 15:45" not in starts
    assert "Mon 16:00" in starts


def test_a_closed_day_has_no_slots():
    calendar = clinic(closures=frozenset({MONDAY}))
    assert search(calendar=calendar) == []


def test_a_day_the_practitioner_does_not_work_has_no_slots():
    saturday = MONDAY + dt.timedelta(days=5)
    assert search(saturday) == []


def test_minimum_notice_hides_starts_too_soon():
    found = search(request=request(earliest_start=at(MONDAY, 11, 5)))
    assert local_starts(found)[0] == "Mon 11:15"


def test_booking_horizon_hides_starts_too_far_ahead():
    found = search(
        MONDAY, MONDAY + dt.timedelta(days=4), request=request(latest_start=at(MONDAY, 12))
    )
    assert local_starts(found)[-1] == "Mon 12:00"


def test_no_capable_room_means_no_slots():
    assert search(rooms=[]) == []


def test_a_room_taken_by_another_practitioner_is_not_offered():
    taken_room = slots.RoomDiary(
        10, "Room 1", booked=[slots.Interval(at(MONDAY, 9), at(MONDAY, 9, 40))]
    )
    found = search(diaries=[diary(1), diary(2, "Jonas Lindqvist")], rooms=[taken_room])
    assert "Mon 09:00" not in local_starts(found, 2)
    assert "Mon 09:45" in local_starts(found, 2)


def test_second_room_is_offered_when_the_first_is_busy():
    busy = slots.RoomDiary(10, "Room 1", booked=[slots.Interval(at(MONDAY, 9), at(MONDAY, 9, 40))])
    free = slots.RoomDiary(11, "Room 2")
    found = search(rooms=[busy, free])
    assert found[0].starts_at == at(MONDAY, 9)
    assert found[0].room_ids == (11,)


def test_patient_with_another_appointment_is_not_offered_that_time():
    elsewhere = slots.Interval(at(MONDAY, 11), at(MONDAY, 11, 30))
    starts = local_starts(search(request=request(patient_booked=[elsewhere])))
    assert "Mon 10:45" not in starts
    assert "Mon 11:15" not in starts
    assert "Mon 11:30" in starts  # the patient needs no cleanup buffer


def test_ten_oclock_stays_ten_oclock_local_across_the_spring_dst_change():
    friday, monday = dt.date(2026, 3, 27), dt.date(2026, 3, 30)
    found = search(friday, monday)
    tens = [
        slot.starts_at
        for slot in found
        if slot.starts_at.astimezone(LONDON).hour == 10
        and slot.starts_at.astimezone(LONDON).minute == 0
    ]
    assert [moment.astimezone(LONDON).date() for moment in tens] == [friday, monday]
    assert tens[0].hour == 10  # GMT: 10:00 UTC
    assert tens[1].hour == 9  # BST: 09:00 UTC


def test_ten_oclock_stays_ten_oclock_local_across_the_autumn_dst_change():
    friday, monday = dt.date(2026, 10, 23), dt.date(2026, 10, 26)
    found = search(friday, monday)
    tens = [
        slot.starts_at
        for slot in found
        if slot.starts_at.astimezone(LONDON).strftime("%H:%M") == "10:00"
    ]
    assert [moment.hour for moment in tens] == [9, 10]


def test_grid_skips_the_hour_that_does_not_exist_in_spring():
    starts = slots.grid_starts(dt.date(2026, 3, 29), LONDON)
    assert len(starts) == 92
    assert all(moment.astimezone(LONDON).hour != 1 for moment in starts)


def test_grid_has_no_duplicates_in_the_repeated_autumn_hour():
    starts = slots.grid_starts(dt.date(2026, 10, 25), LONDON)
    assert len(starts) == 96
    assert len(set(starts)) == 96


def test_sunday_hours_apply_on_sunday_wall_clock_even_on_the_dst_day():
    sunday = dt.date(2026, 3, 29)
    calendar = clinic(opening={6: [(dt.time(9), dt.time(12))]})
    found = search(
        sunday,
        calendar=calendar,
        diaries=[diary(hours={6: slots.DayHours(dt.time(9), dt.time(12))})],
    )
    assert local_starts(found)[0] == "Sun 09:00"
    assert local_starts(found)[-1] == "Sun 11:30"


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ((13, 0), "Amara Okafor is on a break from 13:00 to 13:45."),
        ((8, 30), "Outside Amara Okafor's working hours (09:00-18:00)."),
        ((19, 45), "Outside opening hours (08:00-20:00) on Monday 23 March 2026."),
        ((10, 15), "Amara Okafor is already booked from 10:00 to 10:40 (including cleanup time)."),
    ],
)
def test_why_unavailable_names_the_rule_a_start_breaks(start, expected):
    booked = slots.Interval(at(MONDAY, 10), at(MONDAY, 10, 40))
    problem, rooms = slots.why_unavailable(
        starts_at=at(MONDAY, *start),
        calendar=clinic(),
        request=request(),
        diary=diary(booked=[booked]),
        rooms=[ROOM],
    )
    assert problem == expected
    assert rooms == ()


def test_why_unavailable_names_the_closure_and_its_reason():
    calendar = clinic(closures=frozenset({MONDAY}), closure_reasons={MONDAY: "Staff training"})
    problem, _ = slots.why_unavailable(
        starts_at=at(MONDAY, 10), calendar=calendar, request=request(), diary=diary(), rooms=[ROOM]
    )
    assert problem == "The clinic is closed on Monday 23 March 2026 (Staff training)."


def test_why_unavailable_refuses_inside_the_minimum_notice():
    problem, _ = slots.why_unavailable(
        starts_at=at(MONDAY, 10),
        calendar=clinic(),
        request=request(earliest_start=at(MONDAY, 10, 30)),
        diary=diary(),
        rooms=[ROOM],
    )
    assert problem is not None
    assert problem.startswith("Too late to book Monday 23 March 2026 at 10:00")


def test_why_unavailable_offers_the_free_rooms_in_order():
    problem, rooms = slots.why_unavailable(
        starts_at=at(MONDAY, 10),
        calendar=clinic(),
        request=request(),
        diary=diary(),
        rooms=[ROOM, slots.RoomDiary(11, "Room 2")],
    )
    assert problem is None
    assert rooms == (10, 11)


def test_why_unavailable_says_when_no_room_is_free():
    busy = slots.RoomDiary(
        10, "Room 1", booked=[slots.Interval(at(MONDAY, 10), at(MONDAY, 10, 40))]
    )
    problem, _ = slots.why_unavailable(
        starts_at=at(MONDAY, 10), calendar=clinic(), request=request(), diary=diary(), rooms=[busy]
    )
    assert problem == "No room is free at 10:00 for this treatment (Room 1 already booked)."


def test_intervals_refuse_naive_or_backwards_times():
    with pytest.raises(ValueError, match="aware"):
        slots.Interval(dt.datetime(2026, 3, 23, 10), dt.datetime(2026, 3, 23, 11))  # noqa: DTZ001
    with pytest.raises(ValueError, match="end after"):
        slots.Interval(at(MONDAY, 11), at(MONDAY, 10))


def test_day_hours_refuse_a_break_outside_the_hours():
    with pytest.raises(ValueError, match="inside"):
        slots.DayHours(dt.time(9), dt.time(12), dt.time(12), dt.time(13))
