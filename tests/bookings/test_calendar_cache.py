"""Drawn calendars are kept until the schedule changes (bookings/calendar_cache.py).

Each test draws the day (or week), changes one kind of thing a calendar shows through the
service staff use (or a plain save, as the admin does), and checks that the very next page
shows it. The changes commit for real (``transaction=True``): the version moves only after a
commit, which is what these tests must prove.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bookings import calendar_cache, services
from bookings.models import ScheduleVersion
from bookings.privacy import erase_bookings
from bookings.services import availability
from clinic.models import OpeningHours
from tests.builders import LONDON, MONDAY, assess, local, series_after_sessions
from tests.factories import PatientFactory, PractitionerFactory

pytestmark = pytest.mark.django_db(transaction=True)

DAY = dt.timedelta(days=1)
DATE = {"date": MONDAY.isoformat()}


def free_at(practitioner: Any, hour: int, minute: int = 0) -> str:
    return (
        f'aria-label="Book {practitioner.display_name} on Monday 23 March at {hour:02}:{minute:02}"'
    )


@pytest.fixture
def desk(client: Any, bookable: Any, receptionist: Any):
    """A receptionist's browser on Monday's calendar."""
    client.force_login(receptionist)

    class Desk:
        def day(self, **query: Any) -> str:
            response = client.get("/calendar/", {**DATE, **query})
            assert response.status_code == 200
            return response.content.decode()

        def week(self, practitioner: Any) -> str:
            response = client.get(f"/calendar/week/{practitioner.pk}/", DATE)
            assert response.status_code == 200
            return response.content.decode()

        def committed(self, change: Callable[[], Any]) -> Any:
            """The change, committed (services commit their own transaction; a plain
            save outside one commits at once)."""
            assert not connection.in_atomic_block
            return change()

    return Desk()


def book(patient: Any, practitioner: Any, treatment_type: Any, hour: int, **extra: Any) -> Any:
    return services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=treatment_type,
        starts_at=local(MONDAY, hour),
        **extra,
    )


def grid_of(response: Any) -> str:
    html = response.content.decode()
    return html[html.index('data-testid="calendar-day"') : html.index("</table>")]


def own_queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/calendar/", DATE).status_code == 200
    return len(queries)


# -- the cache itself ---------------------------------------------------------------------------


def test_a_calendar_seen_again_is_served_drawn_with_one_query_of_its_own(
    client, bookable, practitioner, patient, receptionist
):
    book(patient, practitioner, bookable, 10)
    client.force_login(receptionist)
    client.get("/")

    first = client.get("/calendar/", DATE)
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/calendar/", DATE)

    assert grid_of(again) == grid_of(first)
    assert "Zoë Adeyemi" in grid_of(again)
    # Session, user with roles, the schedule version, and 3 to save the session.
    assert len(queries) == 6
    assert sum("bookings_appointment" in query["sql"] for query in queries) == 0


def test_with_the_cache_turned_off_every_look_draws_the_calendar(
    client, bookable, practitioner, patient, receptionist, settings
):
    settings.CALENDAR_CACHE_SECONDS = 0
    book(patient, practitioner, bookable, 10)
    client.force_login(receptionist)
    client.get("/")

    first = own_queries(client)

    assert own_queries(client) == first
    assert first > 6


def test_booking_for_a_patient_is_never_served_the_plain_calendar(desk, practitioner, patient):
    plain = desk.day()
    booking = desk.day(patient=patient.pk)

    assert f"patient={patient.pk}" not in plain
    assert f"patient={patient.pk}" in booking
    assert f"Book {patient.full_name} with {practitioner.display_name}" in booking


def test_a_free_time_inside_the_notice_stops_being_offered_when_the_minute_turns(
    desk, practitioner, time_machine
):
    # 08:00 with 60 minutes' notice: 09:00 can still be booked.
    assert free_at(practitioner, 9) in desk.day()

    time_machine.move_to(local(MONDAY, 8, 1), tick=False)

    assert free_at(practitioner, 9) not in desk.day()
    assert free_at(practitioner, 9, 15) in desk.day()


def _change_then_fail() -> None:
    with transaction.atomic():
        calendar_cache.schedule_changed()
        raise RuntimeError("rolled back")


def test_the_version_changes_once_per_commit_and_not_when_it_rolls_back():
    before = calendar_cache.current_version()

    with pytest.raises(RuntimeError):
        _change_then_fail()
    assert calendar_cache.current_version() == before

    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        for _ in range(3):
            calendar_cache.schedule_changed()
    assert calendar_cache.current_version() != before
    assert (
        sum("UPDATE" in query["sql"] and "scheduleversion" in query["sql"] for query in queries)
        == 1
    )


# -- every kind of change a calendar shows -------------------------------------------------------


def test_a_new_booking_shows_at_once(desk, bookable, practitioner, patient):
    assert "Zoë Adeyemi" not in desk.day()

    desk.committed(lambda: book(patient, practitioner, bookable, 10))

    assert "Zoë Adeyemi" in desk.day()


def test_a_confirmation_a_move_and_a_cancellation_show_at_once(
    desk, bookable, practitioner, patient, receptionist
):
    appointment = desk.committed(lambda: book(patient, practitioner, bookable, 10))
    assert "10:00\u201310:30 Zoë Adeyemi, Crystal microdermabrasion, Booked" in desk.day()

    desk.committed(lambda: services.appointment_confirm(appointment=appointment))
    assert "10:00\u201310:30 Zoë Adeyemi, Crystal microdermabrasion, Confirmed" in desk.day()

    desk.committed(
        lambda: services.appointment_reschedule(
            appointment=appointment, starts_at=local(MONDAY, 11), changed_by=receptionist
        )
    )
    html = desk.day()
    assert "11:00\u201311:30 Zoë Adeyemi" in html
    assert "10:00\u201310:30 Zoë Adeyemi" not in html

    desk.committed(
        lambda: services.appointment_cancel(appointment=appointment, reason="Feeling unwell")
    )
    html = desk.day()
    assert "11:00\u201311:30 Zoë Adeyemi" not in html
    assert "Cancelled this day (1)" in html
    assert "(Feeling unwell)" in html


def test_a_patient_renamed_or_newly_assessed_shows_on_the_card_at_once(
    desk, bookable, practitioner, practitioner_user, patient
):
    desk.committed(lambda: book(patient, practitioner, bookable, 10))
    assert "No assessment yet" in desk.day()

    def rename() -> None:
        patient.family_name = "Adeyemi-Cole"
        patient.save()

    desk.committed(rename)
    assert "Zoë Adeyemi-Cole" in desk.day()

    desk.committed(
        lambda: assess(patient, by=practitioner_user, contraindications={"sun_exposure"})
    )
    assert ">Caution</span>" in desk.day()


def test_a_series_plan_and_a_treatment_name_changed_show_at_once(
    desk, bookable, practitioner, patient
):
    series = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 21 * DAY],
    )
    desk.committed(lambda: book(patient, practitioner, bookable, 10, series=series))
    assert "Session 2 of 6" in desk.day()

    def replan() -> None:
        series.planned_sessions = 8
        series.save()

    desk.committed(replan)
    assert "Session 2 of 8" in desk.day()

    def rename() -> None:
        bookable.name = "Crystal microdermabrasion (face)"
        bookable.save()

    desk.committed(rename)
    assert "Crystal microdermabrasion (face)" in desk.day()


def test_a_practitioner_renamed_or_leaving_changes_the_columns_at_once(
    desk, practitioner, second_practitioner
):
    assert second_practitioner.display_name in desk.day()

    def rename() -> None:
        practitioner.display_name = "Dr Amara Okafor"
        practitioner.save()

    desk.committed(rename)
    assert free_at(practitioner, 10) in desk.day()  # the new name

    def leave() -> None:
        second_practitioner.is_active = False
        second_practitioner.save()

    desk.committed(leave)
    assert second_practitioner.display_name not in desk.day()


def test_working_hours_and_time_off_change_the_free_times_at_once(
    desk, practitioner, second_practitioner
):
    newcomer = PractitionerFactory(display_name="Noor Haddad")
    html = desk.day()
    assert free_at(practitioner, 17, 30) in html
    assert free_at(newcomer, 10) not in html  # no working hours yet

    week = [{"weekday": 0, "works": True, "starts_at": dt.time(9), "ends_at": dt.time(17)}]
    desk.committed(lambda: availability.working_week_set(practitioner=newcomer, days=week))
    assert free_at(newcomer, 10) in desk.day()

    desk.committed(lambda: availability.working_week_set(practitioner=practitioner, days=week))
    assert free_at(practitioner, 17, 30) not in desk.day()

    desk.committed(
        lambda: availability.time_off_add(
            practitioner=practitioner,
            starts_at=local(MONDAY, 10),
            ends_at=local(MONDAY, 12),
            reason="Training",
        )
    )
    html = desk.day()
    assert free_at(practitioner, 10) not in html
    assert free_at(second_practitioner, 10) in html


def test_opening_hours_set_on_a_clinic_with_none_show_at_once(desk, practitioner):
    desk.committed(lambda: OpeningHours.objects.all().delete())
    assert free_at(practitioner, 10) not in desk.day()

    desk.committed(lambda: availability.opening_hours_set(spans=[(0, dt.time(9), dt.time(12))]))

    html = desk.day()
    assert free_at(practitioner, 10) in html
    assert free_at(practitioner, 12) not in html


def test_a_closure_and_a_longer_notice_show_at_once(desk, practitioner):
    html = desk.day()
    assert free_at(practitioner, 9, 30) in html
    assert "Clinic closed" not in html

    desk.committed(
        lambda: availability.booking_settings_update(minimum_notice_minutes=180, horizon_days=90)
    )
    html = desk.day()
    assert free_at(practitioner, 9, 30) not in html
    assert free_at(practitioner, 11) in html

    desk.committed(lambda: availability.closure_add(date=MONDAY, reason="Flood", tz=LONDON))
    assert "Clinic closed: Flood" in desk.day()


def test_erasing_a_patients_bookings_removes_their_cancellation_reason_at_once(
    desk, bookable, practitioner, patient
):
    appointment = desk.committed(lambda: book(patient, practitioner, bookable, 10))
    desk.committed(
        lambda: services.appointment_cancel(appointment=appointment, reason="Moving to Leeds")
    )
    assert "Moving to Leeds" in desk.day()

    desk.committed(lambda: erase_bookings(patient))

    assert "Moving to Leeds" not in desk.day()


def test_the_week_view_shows_a_new_booking_at_once(desk, bookable, practitioner):
    other = PatientFactory(given_name="Ines", family_name="Duarte")
    assert "Ines Duarte" not in desk.week(practitioner)

    desk.committed(lambda: book(other, practitioner, bookable, 14))

    assert "Ines Duarte" in desk.week(practitioner)


@pytest.mark.django_db(transaction=True)
def test_a_booking_made_through_the_page_shows_on_the_next_calendar_after_a_real_commit(
    client, bookable, practitioner, patient, receptionist
):
    client.force_login(receptionist)
    assert "Zoë Adeyemi" not in client.get("/calendar/", DATE).content.decode()
    before = ScheduleVersion.objects.get(pk=1).token

    response = client.post(
        "/appointments/new/",
        {
            "patient": patient.pk,
            "treatment_type": bookable.pk,
            "practitioner": practitioner.pk,
            "date": MONDAY.isoformat(),
            "time": "10:00",
        },
    )

    assert response.status_code == 302
    assert ScheduleVersion.objects.get(pk=1).token != before
    assert "Zoë Adeyemi" in client.get("/calendar/", DATE).content.decode()
