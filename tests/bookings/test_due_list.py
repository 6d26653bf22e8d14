"""The due list's recent and lapsed series: which facts keep a series on the list, the query
counts, and a comparison with the records read literally over a mixed clinic."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

import pytest

from bookings import rules as booking_rules
from bookings import selectors, services
from bookings.models import (
    ACTIVE_STATUSES,
    SESSION_HOLDING_STATUSES,
    Appointment,
    AppointmentStatus,
)
from clinic.models import Room
from tests.builders import LONDON, MONDAY, local, planned_series, series_after_sessions
from tests.factories import PatientFactory
from treatments import rules as treatment_rules
from treatments.choices import SeriesStatus
from treatments.models import TreatmentSeries

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
NOW = local(MONDAY, 8)


def listed(due: Any) -> list[int]:
    return [entry.series.pk for _, _, entries in due.groups for entry in entries]


def series_with_last_session(bookable: Any, practitioner: Any, last: dt.date) -> Any:
    return series_after_sessions(
        patient=PatientFactory(),
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[last - 21 * DAY, last],
    )


def test_a_patient_booked_again_after_months_away_is_neither_due_nor_counted_as_lapsed(
    bookable, practitioner
):
    cutoff = selectors.lapsed_before(MONDAY)
    back = series_with_last_session(bookable, practitioner, cutoff - 20 * DAY)
    still_away = series_with_last_session(bookable, practitioner, cutoff - 20 * DAY)
    services.appointment_book(
        patient=back.patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY + DAY, 10),
        series=back,
    )

    due = selectors.due_series(today=MONDAY, now=NOW)
    apart = selectors.due_series(today=MONDAY, now=NOW, lapsed=True)

    assert listed(due) == []
    assert due.lapsed == 1
    assert listed(apart) == [still_away.pk]


def test_a_cancelled_or_missed_visit_since_the_cutoff_leaves_the_series_lapsed(
    bookable, practitioner, time_machine
):
    cutoff = selectors.lapsed_before(MONDAY)
    cancelled = series_with_last_session(bookable, practitioner, cutoff - 20 * DAY)
    missed = series_with_last_session(bookable, practitioner, cutoff - 20 * DAY)
    visit_day = cutoff + (7 - cutoff.weekday()) * DAY  # the Monday after the cutoff
    time_machine.move_to(local(visit_day, 8), tick=False)
    booked = {
        series.pk: services.appointment_book(
            patient=series.patient,
            practitioner=practitioner,
            treatment_type=bookable,
            starts_at=local(visit_day, hour),
            series=series,
        )
        for series, hour in ((cancelled, 10), (missed, 11))
    }
    services.appointment_cancel(appointment=booked[cancelled.pk], reason="Patient is unwell")
    time_machine.move_to(local(visit_day, 12), tick=False)
    services.appointment_mark_no_show(appointment=booked[missed.pk], marked_by=None)
    time_machine.move_to(NOW, tick=False)

    due = selectors.due_series(today=MONDAY, now=NOW)
    apart = selectors.due_series(today=MONDAY, now=NOW, lapsed=True)

    assert listed(due) == []
    assert due.lapsed == 2
    assert sorted(listed(apart)) == sorted([cancelled.pk, missed.pk])


def test_an_unstarted_series_starting_since_the_cutoff_is_due_and_one_starting_before_is_lapsed(
    bookable, practitioner
):
    cutoff = selectors.lapsed_before(MONDAY)
    recent_start = planned_series(
        PatientFactory(), practitioner, start_on=MONDAY, treatment_type=bookable
    )
    old_start = planned_series(
        PatientFactory(), practitioner, start_on=MONDAY, treatment_type=bookable
    )
    TreatmentSeries.objects.filter(pk=recent_start.pk).update(start_on=cutoff)
    TreatmentSeries.objects.filter(pk=old_start.pk).update(start_on=cutoff - DAY)

    due = selectors.due_series(today=MONDAY, now=NOW)
    apart = selectors.due_series(today=MONDAY, now=NOW, lapsed=True)

    assert listed(due) == [recent_start.pk]
    assert due.groups[0][2][0].last_on is None  # "Not started"
    assert due.lapsed == 1
    assert listed(apart) == [old_start.pk]


def test_a_session_on_the_cutoff_day_keeps_a_series_due_and_one_the_day_before_does_not(
    bookable, practitioner
):
    cutoff = selectors.lapsed_before(MONDAY)
    on_cutoff = series_with_last_session(bookable, practitioner, cutoff)
    day_before = series_with_last_session(bookable, practitioner, cutoff - DAY)

    due = selectors.due_series(today=MONDAY, now=NOW)

    assert listed(due) == [on_cutoff.pk]
    assert due.lapsed == 1
    assert listed(selectors.due_series(today=MONDAY, now=NOW, lapsed=True)) == [day_before.pk]


def visit_row(series: Any, practitioner: Any, starts: dt.datetime, status: str) -> Appointment:
    """An appointment written as a row: the services keep visits inside opening hours, and
    this one sits at the cutoff's midnight."""
    return Appointment.objects.create(
        patient=series.patient,
        practitioner=practitioner,
        room=Room.objects.get(name="Room 1"),
        treatment_type=series.treatment_type,
        series=series,
        series_session_number=series.completed_sessions + 1,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=30),
        blocked_until=starts + dt.timedelta(minutes=40),
        status=status,
    )


def test_a_visit_at_the_cutoffs_first_minute_keeps_a_series_due_and_one_a_minute_earlier_does_not(
    bookable, practitioner, second_practitioner
):
    cutoff = selectors.lapsed_before(MONDAY)
    first_minute = dt.datetime.combine(cutoff, dt.time(0), tzinfo=LONDON)
    at_midnight = series_with_last_session(bookable, practitioner, cutoff - 20 * DAY)
    minute_before = series_with_last_session(bookable, practitioner, cutoff - 20 * DAY)
    visit_row(at_midnight, practitioner, first_minute, AppointmentStatus.COMPLETED)
    visit_row(
        minute_before,
        second_practitioner,
        first_minute - dt.timedelta(minutes=1),
        AppointmentStatus.COMPLETED,
    )

    due = selectors.due_series(today=MONDAY, now=NOW)

    assert listed(due) == [at_midnight.pk]
    assert due.groups[0][2][0].last_on == cutoff
    assert due.lapsed == 1
    assert listed(selectors.due_series(today=MONDAY, now=NOW, lapsed=True)) == [minute_before.pk]


@pytest.mark.parametrize(("lapsed", "back"), [(0, 0), (6, 0), (6, 3)])
def test_due_list_takes_4_queries_however_many_series_have_lapsed_or_come_back(
    bookable, practitioner, lapsed, back, django_assert_num_queries
):
    cutoff = selectors.lapsed_before(MONDAY)
    for offset in range(8):
        series_with_last_session(bookable, practitioner, MONDAY - (15 + offset) * DAY)
    away = [
        series_with_last_session(bookable, practitioner, cutoff - (10 + offset) * DAY)
        for offset in range(lapsed)
    ]
    for hour, series in zip((10, 11, 12), away[:back], strict=False):
        services.appointment_book(
            patient=series.patient,
            practitioner=practitioner,
            treatment_type=bookable,
            starts_at=local(MONDAY + DAY, hour),
            series=series,
        )
    # The widest spacing (for the cutoff), the lapsed count with the series back since it,
    # the recent series, the page of series.
    with django_assert_num_queries(4):
        due = selectors.due_series(today=MONDAY, now=NOW, per_page=5)
    assert due.page.paginator.count == 8
    assert due.lapsed == lapsed - back
    # The lapsed list: the widest spacing, the lapsed series, the page of series.
    with django_assert_num_queries(3 if lapsed - back else 2):
        apart = selectors.due_series(today=MONDAY, now=NOW, per_page=5, lapsed=True)
    assert apart.page.paginator.count == lapsed - back


def test_due_list_page_takes_a_fixed_number_of_queries(
    client, bookable, practitioner, receptionist, django_assert_num_queries
):
    cutoff = selectors.lapsed_before(MONDAY)
    for offset in range(8):
        series_with_last_session(bookable, practitioner, MONDAY - (15 + offset) * DAY)
    series_with_last_session(bookable, practitioner, cutoff - 10 * DAY)
    client.force_login(receptionist)
    client.get("/due/")  # the session row exists from here on, as for any signed-in page
    # The session and the user, the list's four, the session's save (savepoint, update,
    # release).
    with django_assert_num_queries(9):
        html = client.get("/due/").content.decode()
    assert html.count('data-testid="due-row"') == 8
    assert "1 more active series has had no session or visit since" in html


# ---------------------------------------------------------------------------------------------
# The records read literally
# ---------------------------------------------------------------------------------------------


def expected_lists(today: dt.date, now: dt.datetime) -> tuple[list[int], list[int], int]:
    """The due list, the lapsed list and the lapsed count, read from every row in Python."""
    cutoff = selectors.lapsed_before(today)
    appointments: dict[int, list[Appointment]] = defaultdict(list)
    for appointment in Appointment.objects.filter(series__isnull=False):
        appointments[appointment.series_id].append(appointment)
    due: list[tuple[Any, int]] = []
    lapsed: list[tuple[Any, int]] = []
    lapsed_count = 0
    for series in TreatmentSeries.objects.select_related("treatment_type"):
        if series.status not in (SeriesStatus.PLANNED, SeriesStatus.ACTIVE):
            continue
        mine = appointments[series.pk]
        if any(a.status in ACTIVE_STATUSES and a.starts_at >= now for a in mine):
            continue  # booked ahead
        held = [a for a in mine if a.status in SESSION_HOLDING_STATUSES]
        visit_days = [a.starts_at.astimezone(LONDON).date() for a in held]
        session_days = [series.last_session_on] if series.last_session_on else []
        seen_since_cutoff = max([series.start_on, *visit_days, *session_days]) >= cutoff
        lapsed_count += not seen_since_cutoff
        next_number = booking_rules.next_session_number(
            taken=[a.series_session_number for a in held if a.series_session_number],
            completed_sessions=series.completed_sessions,
        )
        if next_number > series.planned_sessions:
            continue
        window = treatment_rules.series_window(
            last_session_on=max([*visit_days, *session_days], default=None),
            start_on=series.start_on,
            policy=series.treatment_type.spacing_policy,
        )
        if window.status_on(today) in (
            treatment_rules.WindowStatus.PLANNED,
            treatment_rules.WindowStatus.TOO_EARLY,
        ):
            continue
        entry = (booking_rules.due_sort_key(window=window, today=today), series.pk)
        (due if seen_since_cutoff else lapsed).append(entry)
    return [pk for _, pk in sorted(due)], [pk for _, pk in sorted(lapsed)], lapsed_count


def mixed_clinic(bookable: Any, practitioners: list[Any], *, seed: int) -> None:
    """Sixty series in every state around the cutoff: sessions, planned starts, visits in
    every status before and after the cutoff (some at its first minute or a minute before
    it), bookings ahead, closed series. Appointments are written as rows (the records the
    list reads); each practitioner's are 45 minutes apart, so no two overlap."""
    rng = random.Random(seed)
    cutoff = selectors.lapsed_before(MONDAY)
    first_minute = dt.datetime.combine(cutoff, dt.time(0), tzinfo=LONDON)
    practitioner, other = practitioners
    rooms = [Room.objects.get(name="Room 1"), Room.objects.create(name="Room 2")]
    taken: set[tuple[int, dt.datetime]] = set()

    def free_start(wanted: dt.datetime, *, lane: int) -> dt.datetime:
        """The first start from ``wanted`` in this lane (practitioner and room), stepping
        away from the cutoff: later on or after it, earlier before it."""
        step = dt.timedelta(minutes=45 if wanted >= first_minute else -45)
        moment = wanted
        while (lane, moment) in taken:
            moment += step
        taken.add((lane, moment))
        return moment

    for _ in range(60):
        kind = rng.choice(["sessions", "sessions", "planned", "closed"])
        if kind == "planned":
            series = planned_series(
                PatientFactory(),
                practitioner,
                start_on=MONDAY,
                treatment_type=bookable,
                planned_sessions=rng.randrange(2, 7),
            )
            series.start_on = cutoff + rng.randrange(-60, 60) * DAY
            series.save(update_fields=["start_on"])
        else:
            last = cutoff + rng.choice([-200, -40, -2, -1, 0, 1, 30, 90]) * DAY
            series = series_after_sessions(
                patient=PatientFactory(),
                practitioner=practitioner,
                treatment_type=bookable,
                performed=[last - 21 * DAY, last],
                planned=rng.randrange(2, 7),
            )
            if kind == "closed":
                series.status = rng.choice(
                    [SeriesStatus.COMPLETED, SeriesStatus.MAINTENANCE, SeriesStatus.STOPPED]
                )
                series.stop_reason = "Moved away" if series.status == SeriesStatus.STOPPED else ""
                series.save(update_fields=["status", "stop_reason"])
        number = series.completed_sessions
        # At most one visit at the cutoff per series: the patient's visits must not overlap.
        offsets = rng.sample([-30, -1, 0, 5, 60, 118, 119, 130, "edge", "edge"], 2)
        if offsets == ["edge", "edge"]:
            offsets = ["edge"]
        for offset in offsets[: rng.choice([0, 0, 1, 2])]:
            if offset == "edge":
                offset = rng.choice(["at", "before"])
            lane = 1 if offset == "before" else 0
            if offset == "at":
                wanted = first_minute
            elif offset == "before":
                wanted = first_minute - dt.timedelta(minutes=1)
            else:
                wanted = first_minute + offset * DAY + dt.timedelta(hours=9)
            starts = free_start(wanted, lane=lane)
            status = rng.choice(
                [AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.CANCELLED]
                if starts >= NOW
                else list(AppointmentStatus)
            )
            number += 1
            Appointment.objects.create(
                patient=series.patient,
                practitioner=(practitioner, other)[lane],
                room=rooms[lane],
                treatment_type=bookable,
                series=series,
                series_session_number=number,
                starts_at=starts,
                ends_at=starts + dt.timedelta(minutes=30),
                blocked_until=starts + dt.timedelta(minutes=40),
                status=status,
            )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_due_and_lapsed_lists_agree_with_the_records_read_literally(
    bookable, practitioner, second_practitioner, seed
):
    mixed_clinic(bookable, [practitioner, second_practitioner], seed=seed)
    want_due, want_lapsed, want_count = expected_lists(MONDAY, NOW)

    due = selectors.due_series(today=MONDAY, now=NOW, per_page=100)
    apart = selectors.due_series(today=MONDAY, now=NOW, per_page=100, lapsed=True)

    assert listed(due) == want_due
    assert due.lapsed == want_count
    assert listed(apart) == want_lapsed
    # The mix has every kind: due, lapsed and listed apart, lapsed and counted.
    assert want_due
    assert want_lapsed
    assert want_count
