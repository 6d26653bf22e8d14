"""Reception pages: calendar, booking, actions, reschedule, cancel, slot search, due list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings import services
from bookings.models import Appointment, AppointmentStatus
from clinic.models import Room
from tests.builders import MONDAY, assess, local, series_after_sessions
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def book(patient: Any, practitioner: Any, treatment_type: Any, starts_at: Any, **extra: Any):
    return services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=treatment_type,
        starts_at=starts_at,
        **extra,
    )


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def booking_post(patient: Any, practitioner: Any, treatment_type: Any, **extra: Any) -> dict:
    data = {
        "patient": patient.pk,
        "treatment_type": treatment_type.pk,
        "practitioner": practitioner.pk,
        "date": "2026-03-23",
        "time": "10:00",
    }
    data.update(extra)
    return data


# ---------------------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------------------


def test_calendar_needs_a_signed_in_user(client, bookable):
    response = client.get("/calendar/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_receptionist_sees_the_day_with_cards_and_bookable_free_times(
    client, bookable, practitioner, second_practitioner, patient, receptionist
):
    book(patient, practitioner, bookable, local(MONDAY, 10))
    client.force_login(receptionist)

    response = client.get("/calendar/", {"date": "2026-03-23"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Monday 23 March 2026" in html
    assert "Zoë Adeyemi" in html
    assert "No assessment yet" in html
    assert 'aria-label="Book Jonas Lindqvist on Monday 23 March at 10:00"' in html
    assert (
        f'href="/appointments/new/?practitioner={second_practitioner.pk}&amp;date=2026-03-23'
        '&amp;time=10:00"' in html
    )


def test_calendar_card_shows_session_k_of_n_overdue_and_suitability(
    client, bookable, practitioner, practitioner_user, patient, receptionist
):
    assess(patient, by=practitioner_user, contraindications={"sun_exposure"})
    late = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 60 * DAY, MONDAY - 30 * DAY],
    )
    book(patient, practitioner, bookable, local(MONDAY, 10), series=late)
    client.force_login(receptionist)

    html = client.get("/calendar/", {"date": "2026-03-23"}).content.decode()

    assert "Session 3 of 6" in html
    assert 'data-testid="overdue-badge"' in html
    assert ">Caution</span>" in html


def test_day_view_query_count_does_not_grow_with_appointments(
    client, bookable, practitioner, second_practitioner, receptionist
):
    Room.objects.create(name="Room 2").treatment_types.add(bookable)
    client.force_login(receptionist)
    client.get("/")

    def count_queries() -> int:
        caches["calendar"].clear()  # drawn anew, as after any change (see test_calendar_cache)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/calendar/", {"date": "2026-03-23"}).status_code == 200
        return len(queries)

    book(PatientFactory(), practitioner, bookable, local(MONDAY, 9))
    one = count_queries()
    for hour in (10, 11, 14, 15, 16):
        for who in (practitioner, second_practitioner):
            book(PatientFactory(), who, bookable, local(MONDAY, hour))
    assert count_queries() == one
    # Session, user with roles, the schedule version, 6 for the calendar, 3 to save the session.
    assert one == 12


def test_slot_search_page_runs_7_queries_of_its_own_however_many_appointments(
    client, bookable, practitioner, second_practitioner, receptionist
):
    """The page loads the active treatment types and practitioners once, for the form's
    options and validation and for the search (no query of the form's own)."""
    client.force_login(receptionist)
    client.get("/")
    search = {
        "treatment_type": bookable.pk,
        "first_day": MONDAY.isoformat(),
        "last_day": (MONDAY + 13 * DAY).isoformat(),
    }

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/slots/", search)
        assert response.status_code == 200
        assert 'data-testid="slot-option"' in response.content.decode()
        return len(queries)

    book(PatientFactory(), practitioner, bookable, local(MONDAY, 9))
    one = count_queries()
    for hour in (10, 11, 14, 15, 16):
        who = practitioner if hour % 2 else second_practitioner
        book(PatientFactory(), who, bookable, local(MONDAY + DAY, hour))
    assert count_queries() == one
    # Session, user with roles, 2 to list treatment types and practitioners, 5 for the
    # search (settings, rooms, opening hours with closures, working hours, appointments with
    # time off), 3 to save the session.
    assert one == 12


def test_week_view_shows_one_practitioner_by_day(
    client, bookable, practitioner, patient, receptionist
):
    book(patient, practitioner, bookable, local(MONDAY + 2 * DAY, 11))
    client.force_login(receptionist)
    response = client.get(f"/calendar/week/{practitioner.pk}/", {"date": "2026-03-25"})
    html = response.content.decode()
    assert "Week of Monday 23 March 2026 to Sunday 29 March 2026" in html
    assert "Zoë Adeyemi" in html
    assert "Wed 25 Mar" in html


def test_a_bad_date_in_the_address_falls_back_to_today_and_says_why(client, bookable, receptionist):
    client.force_login(receptionist)
    response = client.get("/calendar/", {"date": "not-a-date"}, follow=True)
    html = response.content.decode()
    assert response.redirect_chain == [("/calendar/", 302)]
    assert "Monday 23 March 2026" in html
    assert "is not a date: write it as YYYY-MM-DD" in html


# ---------------------------------------------------------------------------------------------
# Booking
# ---------------------------------------------------------------------------------------------


def test_booking_without_a_patient_asks_for_one_and_keeps_the_slot(
    client, bookable, practitioner, patient, receptionist
):
    client.force_login(receptionist)
    response = client.get(
        "/appointments/new/",
        {"practitioner": practitioner.pk, "date": "2026-03-23", "time": "10:00", "q": "adeyemi"},
    )
    html = response.content.decode()
    assert "Find the patient" in html
    assert "Monday 23 March 2026 at 10:00 with Amara Okafor" in html
    assert (
        f"/appointments/new/?patient={patient.pk}&amp;practitioner={practitioner.pk}"
        "&amp;date=2026-03-23&amp;time=10:00" in html
    )


def test_receptionist_books_from_the_form_and_lands_on_the_appointment(
    client, bookable, practitioner, patient, receptionist
):
    client.force_login(receptionist)
    response = client.post("/appointments/new/", booking_post(patient, practitioner, bookable))

    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/appointments/{appointment.pk}/"
    assert appointment.booked_by == receptionist
    assert messages_of(response) == [
        "Booked Zoë Adeyemi with Amara Okafor on Monday 23 March 2026 at 10:00 (Room 1)."
    ]


def test_a_taken_slot_is_refused_on_the_form_and_nothing_typed_is_lost(
    client, bookable, practitioner, patient, receptionist
):
    book(PatientFactory(), practitioner, bookable, local(MONDAY, 10))
    client.force_login(receptionist)

    response = client.post(
        "/appointments/new/",
        booking_post(patient, practitioner, bookable, time="10:15", notes="Prefers mornings"),
    )

    html = response.content.decode()
    assert response.status_code == 200
    # Once, above the form (crispy does not repeat it inside).
    assert html.count("Amara Okafor is already booked from 10:00 to 10:40") == 1
    assert "(including cleanup time)." in html
    assert "Prefers mornings" in html
    assert 'value="10:15"' in html
    assert Appointment.objects.count() == 1


def test_a_too_early_series_session_shows_the_earliest_date_and_a_search_link(
    client, bookable, practitioner, patient, receptionist
):
    series = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 7 * DAY],
    )
    client.force_login(receptionist)

    response = client.post(
        "/appointments/new/", booking_post(patient, practitioner, bookable, series=series.pk)
    )

    html = response.content.decode()
    assert "can be booked from Monday 30 March 2026" in html
    assert 'data-testid="earliest-date">Monday 30 March 2026' in html
    assert "first_day=2026-03-30" in html


def test_a_time_that_does_not_exist_on_the_dst_day_is_a_form_error(
    client, bookable, practitioner, patient, receptionist
):
    client.force_login(receptionist)
    response = client.post(
        "/appointments/new/",
        booking_post(patient, practitioner, bookable, date="2026-03-29", time="01:30"),
    )
    assert "01:30 does not exist on Sunday 29 March 2026 (the clocks go forward)." in (
        response.content.decode()
    )


def test_only_practitioners_see_the_override_fields(
    client, bookable, patient, receptionist, practitioner_user, practitioner
):
    client.force_login(receptionist)
    assert (
        "suitability_override_reason"
        not in client.get("/appointments/new/", {"patient": patient.pk}).content.decode()
    )
    client.force_login(practitioner_user)
    assert (
        "suitability_override_reason"
        in client.get("/appointments/new/", {"patient": patient.pk}).content.decode()
    )


def test_not_suitable_patient_form_says_an_override_is_needed(
    client, bookable, practitioner, practitioner_user, patient, receptionist
):
    assess(patient, by=practitioner_user, contraindications={"rosacea"})
    client.force_login(receptionist)
    response = client.post("/appointments/new/", booking_post(patient, practitioner, bookable))
    html = response.content.decode()
    assert "recorded override reason" in html
    assert "rosacea" not in html.lower()  # a receptionist gets the outcome, not the reason
    assert not Appointment.objects.exists()


# ---------------------------------------------------------------------------------------------
# The appointment page and its actions
# ---------------------------------------------------------------------------------------------


def test_appointment_page_offers_confirm_move_cancel_and_shows_history(
    client, bookable, practitioner, patient, receptionist
):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10), booked_by=receptionist)
    client.force_login(receptionist)
    html = client.get(f"/appointments/{appointment.pk}/").content.decode()
    assert 'value="confirm"' in html
    assert 'value="check_in"' in html  # it is today
    assert 'value="complete"' not in html  # not started, and receptionists do not complete
    assert "Reschedule" in html
    assert "Cancel appointment" in html
    assert "Booked</strong>" in html
    assert "by Rosa Bennett" in html


def test_confirm_and_check_in_from_the_appointment_page(
    client, bookable, practitioner, patient, receptionist
):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    client.force_login(receptionist)

    response = client.post(f"/appointments/{appointment.pk}/action/", {"action": "confirm"})
    assert response.status_code == 302
    assert messages_of(response) == ["Appointment confirmed."]

    client.post(f"/appointments/{appointment.pk}/action/", {"action": "check_in"})
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN


def test_an_action_that_does_not_apply_is_explained_not_a_500(
    client, bookable, practitioner, patient, receptionist
):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    client.force_login(receptionist)
    response = client.post(f"/appointments/{appointment.pk}/action/", {"action": "no_show"})
    assert messages_of(response) == [
        "A patient can be marked as a no-show only after the start time."
    ]


def test_receptionist_cannot_complete_but_practitioner_can_and_then_logs_the_session(
    client, bookable, practitioner, practitioner_user, patient, receptionist, time_machine
):
    series = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 21 * DAY],
    )
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10), series=series)
    time_machine.move_to(local(MONDAY, 10, 35), tick=False)

    client.force_login(receptionist)
    forbidden = client.post(f"/appointments/{appointment.pk}/action/", {"action": "complete"})
    assert forbidden.status_code == 403

    client.force_login(practitioner_user)
    client.post(f"/appointments/{appointment.pk}/action/", {"action": "complete"})
    html = client.get(f"/appointments/{appointment.pk}/").content.decode()
    assert f"/series/{series.pk}/sessions/new/?appointment={appointment.pk}" in html
    assert "Log the session" in html


def test_reschedule_page_moves_the_appointment(
    client, bookable, practitioner, patient, receptionist
):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    client.force_login(receptionist)

    response = client.post(
        f"/appointments/{appointment.pk}/reschedule/",
        {
            "date": "2026-03-24",
            "time": "11:30",
            "practitioner": practitioner.pk,
            "reason": "Patient asked",
        },
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.starts_at == local(MONDAY + DAY, 11, 30)
    assert messages_of(response)[0].startswith("Moved to Tuesday 24 March 2026 at 11:30")


def test_reschedule_into_a_taken_time_explains_and_keeps_the_form(
    client, bookable, practitioner, patient, receptionist
):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    book(PatientFactory(), practitioner, bookable, local(MONDAY, 14))
    client.force_login(receptionist)
    response = client.post(
        f"/appointments/{appointment.pk}/reschedule/",
        {"date": "2026-03-23", "time": "14:15", "practitioner": practitioner.pk, "reason": "X"},
    )
    assert response.content.decode().count("already booked from 14:00 to 14:40") == 1


def test_cancel_needs_a_reason_then_frees_the_time(
    client, bookable, practitioner, patient, receptionist
):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    client.force_login(receptionist)

    blank = client.post(f"/appointments/{appointment.pk}/cancel/", {"reason": ""})
    assert "This field is required." in blank.content.decode()

    response = client.post(f"/appointments/{appointment.pk}/cancel/", {"reason": "Unwell"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancellation_reason == "Unwell"


def test_unknown_appointment_is_a_404(client, bookable, receptionist):
    client.force_login(receptionist)
    assert client.get("/appointments/999999/").status_code == 404


# ---------------------------------------------------------------------------------------------
# Slot search, due list, the rest of a series
# ---------------------------------------------------------------------------------------------


def test_slot_search_for_a_series_defaults_to_its_window_and_links_to_booking(
    client, bookable, practitioner, patient, receptionist
):
    series = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 35 * DAY, MONDAY - 14 * DAY],
    )
    client.force_login(receptionist)

    html = client.get("/slots/", {"series": series.pk}).content.decode()

    assert "Series window for session 3" in html
    assert "23 Mar \u2013 6 Apr 2026" in html
    assert 'value="2026-04-06"' in html
    assert (
        f"/appointments/new/?patient={patient.pk}&amp;treatment_type={bookable.pk}"
        f"&amp;series={series.pk}&amp;date=2026-03-23&amp;time=09:00" in html
    )


def test_slot_search_refuses_a_backwards_range_with_a_field_message(client, bookable, receptionist):
    client.force_login(receptionist)
    response = client.get(
        "/slots/",
        {"treatment_type": bookable.pk, "first_day": "2026-03-30", "last_day": "2026-03-23"},
    )
    assert "The end date must not be before the start date." in response.content.decode()


def test_slot_search_when_moving_links_back_to_the_reschedule_form(
    client, bookable, practitioner, patient, receptionist
):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    client.force_login(receptionist)
    html = client.get(
        "/slots/",
        {
            "treatment_type": bookable.pk,
            "reschedule": appointment.pk,
            "first_day": "2026-03-24",
            "last_day": "2026-03-24",
        },
    ).content.decode()
    assert f"/appointments/{appointment.pk}/reschedule/?date=2026-03-24&amp;time=09:00" in html


def test_due_list_links_each_series_to_a_search_in_its_window(
    client, bookable, practitioner, patient, receptionist
):
    series = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 51 * DAY, MONDAY - 30 * DAY],
    )
    client.force_login(receptionist)
    html = client.get("/due/").content.decode()
    assert "Overdue" in html
    assert "2 days overdue" in html
    assert f"/slots/?series={series.pk}&amp;first_day=2026-03-23&amp;last_day=2026-04-05" in html
    assert f"/series/{series.pk}/book-rest/" in html


def test_due_list_counts_lapsed_series_and_links_to_them_on_their_own_page(
    client, bookable, practitioner, receptionist
):
    from bookings import selectors

    cutoff = selectors.lapsed_before(MONDAY)
    lapsed_patient = PatientFactory(given_name="Ines", family_name="Lapsed")
    series_after_sessions(
        patient=lapsed_patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[cutoff - 30 * DAY, cutoff - DAY],
    )
    client.force_login(receptionist)

    html = client.get("/due/").content.decode()
    assert lapsed_patient.full_name not in html
    assert (
        f"1 more active series has had no session or visit since {cutoff:%-d %B %Y}: "
        '<a href="?lapsed=1">show lapsed series</a>.' in html
    )

    lapsed_html = client.get("/due/", {"lapsed": "1"}).content.decode()
    assert "Lapsed series" in lapsed_html
    assert lapsed_patient.full_name in lapsed_html
    assert "Back to the due list" in lapsed_html


def test_due_list_is_empty_with_a_clear_message(client, bookable, receptionist):
    client.force_login(receptionist)
    assert "Nobody is due" in client.get("/due/").content.decode()


def test_book_the_rest_proposes_then_books_all_sessions(
    client, bookable, practitioner, patient, receptionist
):
    series = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 35 * DAY, MONDAY - 14 * DAY],
        planned=4,
    )
    client.force_login(receptionist)
    page = client.get(f"/series/{series.pk}/book-rest/")
    formset = page.context["formset"]
    data = {"session-TOTAL_FORMS": "2", "session-INITIAL_FORMS": "2"}
    for index, form in enumerate(formset.forms):
        for name in ("number", "date", "time", "practitioner"):
            value = form.initial[name]
            data[f"session-{index}-{name}"] = value.isoformat() if name == "date" else value
        data[f"session-{index}-book"] = "on"

    response = client.post(f"/series/{series.pk}/book-rest/", data)

    assert response.status_code == 302
    assert sorted(
        Appointment.objects.filter(series=series).values_list("series_session_number", flat=True)
    ) == [3, 4]
    assert messages_of(response) == ["Booked 2 sessions for Zoë Adeyemi: sessions 3 to 4."]


def test_calendar_opened_to_book_for_a_patient_carries_them_into_every_free_time(
    client, bookable, practitioner, patient, receptionist
):
    series = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 35 * DAY, MONDAY - 14 * DAY],
    )
    client.force_login(receptionist)
    html = client.get(
        "/calendar/", {"date": "2026-03-24", "patient": patient.pk, "series": series.pk}
    ).content.decode()
    assert "Booking for <strong>Zoë Adeyemi</strong>" in html
    assert (
        f"time=10:00&amp;patient={patient.pk}&amp;series={series.pk}"
        f"&amp;treatment_type={bookable.pk}" in html
    )
    assert 'aria-label="Book Zoë Adeyemi with Amara Okafor on Tuesday 24 March at 10:00"' in html


def test_receptionists_see_that_an_override_was_recorded_but_not_why(
    client, bookable, practitioner, practitioner_user, patient, receptionist
):
    assess(patient, by=practitioner_user, contraindications={"rosacea"})
    appointment = book(
        patient,
        practitioner,
        bookable,
        local(MONDAY, 10),
        booked_by=practitioner_user,
        suitability_override_reason="Rosacea in remission per dermatologist letter",
    )
    client.force_login(receptionist)
    html = client.get(f"/appointments/{appointment.pk}/").content.decode()
    assert "Recorded by a practitioner" in html
    assert "Rosacea in remission" not in html
    client.force_login(practitioner_user)
    assert "Rosacea in remission" in client.get(f"/appointments/{appointment.pk}/").content.decode()


def test_a_cancelled_appointment_cannot_be_opened_for_moving_or_cancelling_again(
    client, bookable, practitioner, patient, receptionist
):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    services.appointment_cancel(appointment=appointment, reason="Unwell")
    client.force_login(receptionist)
    moved = client.get(f"/appointments/{appointment.pk}/reschedule/")
    assert moved.status_code == 302
    assert messages_of(moved) == ["A cancelled appointment cannot be moved."]
    again = client.get(f"/appointments/{appointment.pk}/cancel/")
    assert messages_of(again)[-1] == "This appointment is cancelled: it cannot be cancelled."


@pytest.mark.parametrize("bad", ["999999", "abc", "1.5"])
def test_slot_search_with_an_unknown_treatment_or_practitioner_says_so_and_keeps_the_dates(
    client, bookable, practitioner, receptionist, bad
):
    client.force_login(receptionist)
    for field in ("treatment_type", "practitioner"):
        search = {
            "treatment_type": bookable.pk,
            "first_day": MONDAY.isoformat(),
            "last_day": (MONDAY + 6 * DAY).isoformat(),
            field: bad,
        }
        response = client.get("/slots/", search)

        assert response.status_code == 200
        html = response.content.decode()
        assert "Select a valid choice" in html
        assert 'value="2026-03-23"' in html
        assert 'data-testid="slot-option"' not in html


def test_slot_search_offers_only_active_treatments_and_practitioners(
    client, bookable, practitioner, second_practitioner, receptionist
):
    second_practitioner.is_active = False
    second_practitioner.save()
    client.force_login(receptionist)

    html = client.get("/slots/", {"first_day": MONDAY.isoformat()}).content.decode()

    assert f'<option value="{practitioner.pk}">{practitioner.display_name}</option>' in html
    assert second_practitioner.display_name not in html
    assert f'<option value="{bookable.pk}" selected>{bookable.name}</option>' in html
