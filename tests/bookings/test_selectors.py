"""Selectors: fixed query counts, the due list's groups, the calendar grid."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bookings import selectors, services
from bookings.models import TimeOff
from clinic.models import Room
from tests.builders import MONDAY, local, series_after_sessions, working_week
from tests.factories import PatientFactory, PractitionerFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
NOW = local(MONDAY, 8)


def fill_day(treatment_type: Any, practitioners: list[Any], count: int) -> None:
    """``count`` appointments spread over the practitioners on Monday and Tuesday."""
    Room.objects.create(name="Room 2").treatment_types.add(treatment_type)
    starts = [
        local(day, hour, minute)
        for day in (MONDAY, MONDAY + DAY)
        for hour in (9, 10, 11, 14, 15, 16)
        for minute in (0,)
    ]
    for index in range(count):
        services.appointment_book(
            patient=PatientFactory(),
            practitioner=practitioners[index % len(practitioners)],
            treatment_type=treatment_type,
            starts_at=starts[index // len(practitioners)],
        )


def test_slot_search_for_all_practitioners_over_14_days_takes_6_queries(
    bookable, practitioner, second_practitioner, django_assert_num_queries
):
    fill_day(bookable, [practitioner, second_practitioner], 12)
    for _ in range(3):
        working_week(PractitionerFactory())

    # Settings, practitioners, rooms, opening hours with closures, working hours, and
    # appointments with time off.
    with django_assert_num_queries(6):
        result = selectors.free_slots(
            treatment_type=bookable, first_day=MONDAY, last_day=MONDAY + 13 * DAY, now=NOW
        )

    assert result.count > 0
    assert {day.day for day in result.days} == {
        MONDAY + offset * DAY for offset in range(14) if (MONDAY + offset * DAY).weekday() < 5
    }


def test_slot_search_leaves_out_booked_times_and_names_practitioner_and_room(
    bookable, practitioner, patient
):
    services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    result = selectors.free_slots(
        treatment_type=bookable,
        first_day=MONDAY,
        last_day=MONDAY,
        now=NOW,
        practitioner=practitioner,
    )
    starts = [option.local_start.strftime("%H:%M") for option in result.days[0].options]
    assert "09:30" not in starts
    assert "10:30" not in starts
    assert "10:45" in starts
    assert result.days[0].options[0].room.name == "Room 1"
    assert result.days[0].options[0].practitioner == practitioner


def test_slot_search_while_moving_ignores_the_appointment_being_moved(
    bookable, practitioner, patient
):
    appointment = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    result = selectors.free_slots(
        treatment_type=bookable,
        first_day=MONDAY,
        last_day=MONDAY,
        now=NOW,
        practitioner=practitioner,
        patient_id=patient.pk,
        exclude_appointment_id=appointment.pk,
    )
    starts = [option.local_start.strftime("%H:%M") for option in result.days[0].options]
    assert "10:00" in starts
    assert "10:15" in starts


@pytest.mark.parametrize("count", [1, 24])
def test_calendar_day_takes_6_queries_however_many_appointments(
    bookable, practitioner, second_practitioner, count, django_assert_num_queries
):
    fill_day(bookable, [practitioner, second_practitioner], count)

    with django_assert_num_queries(6):
        day = selectors.calendar_day(day=MONDAY, now=NOW)

    cards = [cell for row in day.rows for cell in row.cells if cell.kind == "card"]
    assert len(cards) == min(count, 12)
    assert [column.label for column in day.columns] == ["Amara Okafor", "Jonas Lindqvist"]


def test_calendar_day_marks_cards_free_buffer_and_break_cells(bookable, practitioner, patient):
    services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    day = selectors.calendar_day(day=MONDAY, now=NOW)
    by_time = {row.label: row.cells[0] for row in day.rows}

    assert by_time["10:00"].kind == "card"
    assert by_time["10:00"].rowspan == 2
    assert by_time["10:15"].kind == "covered"
    assert by_time["10:30"].kind == "buffer"  # cleanup until 10:40
    assert by_time["10:45"].kind == "free"
    assert by_time["13:15"].kind == "closed"  # the break
    assert by_time["08:00"].kind == "closed"  # clinic open, practitioner not yet working
    assert day.rows[0].label == "08:00"
    assert day.rows[-1].label == "19:45"


def test_calendar_day_closes_the_practitioners_time_off(bookable, practitioner):
    TimeOff.objects.create(
        practitioner=practitioner, starts_at=local(MONDAY, 14), ends_at=local(MONDAY, 15)
    )
    day = selectors.calendar_day(day=MONDAY, now=NOW)
    by_time = {row.label: row.cells[0] for row in day.rows}
    assert by_time["14:30"].kind == "closed"
    assert by_time["15:00"].kind == "free"


def test_calendar_day_shows_past_cells_as_not_bookable(bookable, practitioner, time_machine):
    time_machine.move_to(local(MONDAY, 12), tick=False)
    day = selectors.calendar_day(day=MONDAY, now=local(MONDAY, 12))
    by_time = {row.label: row.cells[0] for row in day.rows}
    assert by_time["11:45"].kind == "past"
    assert by_time["12:45"].kind == "past"  # inside the 60-minute notice
    assert by_time["14:00"].kind == "free"


@pytest.mark.parametrize("count", [1, 10])
def test_calendar_week_takes_5_queries_however_many_appointments(
    bookable, practitioner, count, django_assert_num_queries
):
    fill_day(bookable, [practitioner], count)
    with django_assert_num_queries(5):
        week = selectors.calendar_week(practitioner=practitioner, week_start=MONDAY, now=NOW)
    cards = [cell for row in week.rows for cell in row.cells if cell.kind == "card"]
    assert len(cards) == count
    assert [column.day for column in week.columns] == [MONDAY + offset * DAY for offset in range(7)]


def test_calendar_week_keeps_wall_clock_rows_across_the_dst_change(bookable, practitioner):
    """Week of 23 March has Sunday 29 March (clocks forward); Monday 30 March's 10:00 row
    is 10:00 local, not 11:00."""
    week = selectors.calendar_week(practitioner=practitioner, week_start=MONDAY + 7 * DAY, now=NOW)
    row = next(row for row in week.rows if row.label == "10:00")
    assert row.cells[0].start == local(MONDAY + 7 * DAY, 10)


# ---------------------------------------------------------------------------------------------
# Due list
# ---------------------------------------------------------------------------------------------


def series_done(bookable: Any, practitioner: Any, last: dt.date) -> Any:
    return series_after_sessions(
        patient=PatientFactory(),
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[last - 21 * DAY, last],
    )


def test_due_list_groups_overdue_closing_and_open_and_leaves_out_too_early_and_booked(
    bookable, practitioner
):
    overdue = series_done(bookable, practitioner, MONDAY - 30 * DAY)
    closing = series_done(bookable, practitioner, MONDAY - 24 * DAY)
    open_window = series_done(bookable, practitioner, MONDAY - 15 * DAY)
    series_done(bookable, practitioner, MONDAY - 7 * DAY)  # window opens next Monday
    booked = series_done(bookable, practitioner, MONDAY - 16 * DAY)
    services.appointment_book(
        patient=booked.patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY + DAY, 10),
        series=booked,
    )

    due = selectors.due_series(today=MONDAY, now=NOW)

    groups = {status: [entry.series for entry in entries] for status, _, entries in due.groups}
    assert groups == {"overdue": [overdue], "closing": [closing], "open": [open_window]}
    assert due.counts == {"overdue": 1, "closing": 1, "open": 1}
    (overdue_entry,) = due.groups[0][2]
    assert overdue_entry.days_overdue == 2
    assert overdue_entry.next_number == 3
    assert overdue_entry.search_from == MONDAY


def test_due_list_takes_4_queries_however_many_series(
    bookable, practitioner, django_assert_num_queries
):
    for offset in range(12):
        series_done(bookable, practitioner, MONDAY - (15 + offset) * DAY)
    # The widest spacing (for the lapsed cutoff), the lapsed count, the recent open series,
    # the page of series.
    with django_assert_num_queries(4):
        due = selectors.due_series(today=MONDAY, now=NOW, per_page=5)
    assert due.page.paginator.count == 12
    assert sum(len(entries) for _, _, entries in due.groups) == 5


def test_due_list_leaves_out_a_series_whose_planned_sessions_are_all_done(bookable, practitioner):
    series_after_sessions(
        patient=PatientFactory(),
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 40 * DAY, MONDAY - 20 * DAY],
        planned=2,
    )
    assert selectors.due_series(today=MONDAY, now=NOW).groups == []


def test_a_completed_visit_not_yet_logged_counts_as_the_last_session(
    bookable, practitioner, practitioner_user, time_machine
):
    series = series_done(bookable, practitioner, MONDAY - 14 * DAY)
    appointment = services.appointment_book(
        patient=series.patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
        series=series,
    )
    time_machine.move_to(local(MONDAY, 11), tick=False)
    services.appointment_complete(appointment=appointment, completed_by=practitioner_user)

    due = selectors.due_series(today=MONDAY + DAY, now=local(MONDAY + DAY, 9))

    assert due.groups == []  # session 3 was today: session 4's window opens in 14 days


def test_patient_timeline_lists_appointments_without_clinical_detail(
    bookable, practitioner, patient
):
    services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    (entry,) = selectors.appointment_timeline_entries(patient)
    assert entry.title == "Crystal microdermabrasion: booked"
    assert entry.kind == "appointment"
    assert entry.clinical is False


def test_ten_oclock_bookings_sit_on_the_ten_oclock_row_either_side_of_the_dst_change(
    bookable, practitioner
):
    friday, monday = MONDAY + 4 * DAY, MONDAY + 7 * DAY  # 27 March (GMT), 30 March (BST)
    for day in (friday, monday):
        services.appointment_book(
            patient=PatientFactory(),
            practitioner=practitioner,
            treatment_type=bookable,
            starts_at=local(day, 10),
        )
    for day, utc_hour in ((friday, 10), (monday, 9)):
        calendar = selectors.calendar_day(day=day, now=NOW)
        (row,) = [row for row in calendar.rows if row.cells[0].kind == "card"]
        assert row.label == "10:00"
        assert row.cells[0].entries[0].starts_at.astimezone(dt.UTC).hour == utc_hour


def listed(due: Any) -> list[int]:
    return [entry.series.pk for _, _, entries in due.groups for entry in entries]


def test_a_series_with_no_session_or_visit_since_the_cutoff_is_counted_as_lapsed_and_listed_apart(
    bookable, practitioner
):
    cutoff = selectors.lapsed_before(MONDAY)
    old = series_done(bookable, practitioner, cutoff - DAY)
    recent = series_done(bookable, practitioner, MONDAY - 30 * DAY)

    due = selectors.due_series(today=MONDAY, now=NOW)
    apart = selectors.due_series(today=MONDAY, now=NOW, lapsed=True)

    assert listed(due) == [recent.pk]
    assert due.lapsed == 1
    assert due.lapsed_before == cutoff
    assert listed(apart) == [old.pk]
    (entry,) = apart.groups[0][2]
    assert entry.status == "overdue"
    assert entry.days_overdue > selectors.LAPSED_AFTER_DAYS


def test_a_visit_since_the_cutoff_keeps_a_series_on_the_due_list(
    bookable, practitioner, practitioner_user, time_machine
):
    cutoff = selectors.lapsed_before(MONDAY)
    series = series_done(bookable, practitioner, cutoff - 10 * DAY)
    visit_day = cutoff + (7 - cutoff.weekday()) * DAY  # the Monday after the cutoff
    time_machine.move_to(local(visit_day, 8), tick=False)
    appointment = services.appointment_book(
        patient=series.patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(visit_day, 10),
        series=series,
    )
    time_machine.move_to(local(visit_day, 11), tick=False)
    services.appointment_complete(appointment=appointment, completed_by=practitioner_user)

    due = selectors.due_series(today=MONDAY, now=NOW)

    assert listed(due) == [series.pk]
    assert due.lapsed == 0
    assert due.groups[0][2][0].last_on == visit_day
