"""The calendar grid drawn by ``{% calendar_rows %}`` (plain string building, for speed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bookings import services
from bookings.calendar import Cell, Column, Row
from bookings.templatetags.calendar_grid import calendar_rows
from tests.bookings.builders import MONDAY, local
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
