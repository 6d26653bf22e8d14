"""The calendar grid drawn by ``{% calendar_rows %}`` (plain string building, for speed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bookings import services
from bookings.calendar import Cell, Column, GridEntry, Row, layout_grid
from bookings.models import Appointment
from bookings.templatetags.calendar_grid import calendar_rows
from tests.builders import MONDAY, local
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_a_patient_name_with_markup_is_shown_as_text_on_the_calendar(
    client: Any, bookable: Any, practitioner: Any, receptionist: Any
):
    patient = PatientFactory(given_name='<b onmouseover="x">Zoë</b>', family_name="O'Brien & Co")
    appointment = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    client.force_login(receptionist)

    html = client.get("/calendar/", {"date": MONDAY.isoformat()}).content.decode()

    assert '<b onmouseover="x">' not in html
    assert "&lt;b onmouseover=&quot;x&quot;&gt;Zoë&lt;/b&gt; O&#x27;Brien &amp; Co" in html
    assert f'href="/appointments/{appointment.pk}/"' in html
    assert ">10:00\u201310:30<" in html


def test_the_week_view_draws_the_same_cards_and_free_times(
    client: Any, bookable: Any, practitioner: Any, patient: Any, receptionist: Any
):
    services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 11),
    )
    client.force_login(receptionist)

    html = client.get(
        f"/calendar/week/{practitioner.pk}/", {"date": MONDAY.isoformat()}
    ).content.decode()

    assert 'data-testid="appointment-card"' in html
    assert "Zoë Adeyemi" in html
    assert 'aria-label="Book Amara Okafor on Tuesday 24 March at 11:00"' in html


def test_covered_rows_draw_no_cell_and_each_kind_has_its_own_markup(practitioner: Any):
    tz = dt.UTC
    column = Column(key=1, label="A", entries=(), open=(), day=MONDAY, extra=practitioner)
    start = dt.datetime(2026, 3, 23, 9, tzinfo=tz)
    rows = [
        Row(start=start, label="09:00", cells=[Cell("free", start=start, column=column)]),
        Row(start=start, label="09:15", cells=[Cell("covered", column=column)]),
        Row(start=start, label="09:30", cells=[Cell("buffer", column=column)]),
        Row(start=start, label="09:45", cells=[Cell("past", column=column)]),
        Row(start=start, label="10:00", cells=[Cell("closed", column=column)]),
    ]

    html = str(calendar_rows(rows))

    assert html.count("<tr") == 5
    assert html.count("<td") == 4
    assert '<tr class="cal-hour">' in html
    assert (
        f'href="/appointments/new/?practitioner={practitioner.pk}&amp;date=2026-03-23'
        '&amp;time=09:00"' in html
    )
    assert "Cleanup time" in html
    assert '<td class="cal-past"></td>' in html
    assert "Not available" in html


def test_the_day_view_lists_cancelled_appointments_apart_with_patient_treatment_and_reason(
    client: Any, bookable: Any, practitioner: Any, patient: Any, receptionist: Any
):
    appointment = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 14),
    )
    services.appointment_cancel(
        appointment=appointment, reason="Flu <b>bad</b>", cancelled_by=receptionist
    )
    client.force_login(receptionist)

    html = client.get("/calendar/", {"date": MONDAY.isoformat()}).content.decode()

    assert "Cancelled this day (1)" in html
    assert f"14:00 {patient.full_name} · {bookable.name}</a>" in html
    assert "(Flu &lt;b&gt;bad&lt;/b&gt;)" in html
    assert 'data-testid="appointment-card"' not in html


def _cards_by_patient(html: str) -> dict[str, str]:
    """Each card's opening tag, by the patient name in its label."""
    cards = {}
    for tag in html.split("<a ")[1:]:
        if 'data-testid="appointment-card"' in tag:
            label = tag.split('aria-label="', 1)[1].split('"', 1)[0]
            cards[label.split(" ", 1)[1].split(",", 1)[0]] = tag.split(">", 1)[0]
    return cards


def _row_of(html: str, marker: str) -> str:
    """The time label of the table row holding ``marker``."""
    row = html[: html.index(marker)].rsplit("<tr", 1)[1]
    return row.split('class="cal-time">', 1)[1].split("<", 1)[0]


def test_a_card_starting_at_10_07_is_drawn_seven_minutes_into_the_10_00_row(
    client: Any, bookable: Any, practitioner: Any, patient: Any, receptionist: Any
):
    # Existing data from before the grid was enforced: booked at 10:00, moved to 10:07.
    appointment = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=local(MONDAY, 10, 7),
        ends_at=local(MONDAY, 10, 37),
        blocked_until=local(MONDAY, 10, 47),
    )
    client.force_login(receptionist)

    html = client.get("/calendar/", {"date": MONDAY.isoformat()}).content.decode()

    (card,) = _cards_by_patient(html).values()
    assert _row_of(html, card) == "10:00"
    assert 'data-offset="7"' in card
    assert 'data-minutes="30"' in card


def test_a_booking_in_the_time_a_completed_appointment_freed_sits_beside_it_in_its_own_lane(
    client: Any,
    bookable: Any,
    practitioner: Any,
    patient: Any,
    receptionist: Any,
    time_machine: Any,
):
    first = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    time_machine.move_to(local(MONDAY, 10, 10), tick=False)
    services.appointment_complete(
        appointment=first, completed_by=practitioner.user, now=local(MONDAY, 10, 10)
    )
    walk_in = PatientFactory(given_name="Ines", family_name="Walker")
    services.appointment_book(
        patient=walk_in,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10, 15),
        now=local(MONDAY, 8),
    )
    client.force_login(receptionist)

    html = client.get("/calendar/", {"date": MONDAY.isoformat()}).content.decode()

    cards = _cards_by_patient(html)
    completed, booked = cards[patient.full_name], cards["Ines Walker"]
    assert 'data-offset="0"' in completed
    assert 'data-lane="0" data-lanes="2"' in completed
    assert 'data-offset="15"' in booked
    assert 'data-lane="1" data-lanes="2"' in booked


def test_cards_that_follow_each_other_share_one_lane():
    tz = dt.UTC
    start = dt.datetime(2026, 3, 23, 9, tzinfo=tz)
    rows = [start + dt.timedelta(minutes=15 * index) for index in range(8)]
    entries = [
        GridEntry(start=rows[0], end=rows[2], blocked_until=rows[2], item="a"),
        GridEntry(start=rows[1], end=rows[3], blocked_until=rows[3], item="b"),
        GridEntry(start=rows[2], end=rows[4], blocked_until=rows[4], item="c"),
    ]
    column = Column(key=1, label="A", entries=entries, open=())

    grid = layout_grid(rows=rows, columns=[column], bookable_from=start, tz=tz)

    cell = grid[0].cells[0]
    assert [(p.item, p.offset_minutes, p.minutes, p.lane, p.lanes) for p in cell.placements] == [
        ("a", 0, 30, 0, 2),
        ("b", 15, 30, 1, 2),
        ("c", 30, 30, 0, 2),
    ]
    assert cell.rowspan == 4
