"""Patient self-service links: confirm, cancel, move, pick the next session, unsubscribe.

No login; the signed token is the key. Tampered tokens are 404s that show nothing, expired
ones explain themselves, used or outdated ones say where things stand.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.test import Client

from bookings import links
from bookings.links import Purpose
from bookings.models import AppointmentStatus
from bookings.selfservice import slot_value
from clinic.models import AuditEntry
from clinic.privacy import patient_erase
from tests.builders import (
    at,
    book,
    london,
    move,
    open_clinic_every_day,
    sent_to,
    series_after_sessions,
    sweep,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

BOOKED_AT = london(2026, 6, 1, 12)
STARTS_AT = london(2026, 6, 10, 10)
LOOKING_AT = london(2026, 6, 5, 18)  # when the patient opens the link


@pytest.fixture
def clinic(practitioner: Any) -> Any:
    return open_clinic_every_day(practitioner)


@pytest.fixture
def appointment(clinic: Any, practitioner: Any, patient: Any) -> Any:
    return book(patient, practitioner, STARTS_AT, when=BOOKED_AT)


def path_of(url: str) -> str:
    return urlsplit(url).path


def link(appointment: Any, purpose: Purpose) -> str:
    return path_of(
        links.appointment_link(
            purpose=purpose, appointment_id=appointment.pk, starts_at=appointment.starts_at
        )
    )


def visit(client: Any, url: str, *, when: dt.datetime = LOOKING_AT, data: Any = None) -> Any:
    with at(when):
        if data is None:
            return client.get(url)
        return client.post(url, data, follow=True)


# -- tokens ----------------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", [Purpose.CONFIRM, Purpose.CANCEL, Purpose.RESCHEDULE])
def test_a_tampered_link_is_a_404_that_shows_nothing(client, appointment, purpose):
    url = link(appointment, purpose)
    token = url.rstrip("/").rsplit("/", 1)[1]
    tampered = url.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))

    response = visit(client, tampered)

    assert response.status_code == 404
    assert appointment.patient.given_name not in response.content.decode()


def test_a_token_for_another_appointment_id_cannot_be_forged(client, appointment, clinic):
    other_patient = PatientFactory(given_name="Mateusz")
    other = book(other_patient, appointment.practitioner, london(2026, 6, 11, 10), when=BOOKED_AT)
    # A valid-looking token with the other appointment's id, signed with the wrong key.
    forged = signing.dumps(
        {"id": other.pk, "p": "confirm", "v": links.appointment_version(other.starts_at)},
        key="not-the-clinic-secret",
        salt="clinic.selfservice.confirm",
        compress=True,
    )

    response = visit(client, f"/p/confirm/{forged}/")

    assert response.status_code == 404
    assert "Mateusz" not in response.content.decode()


def test_a_link_for_one_purpose_does_not_open_another(client, appointment):
    cancel_token = link(appointment, Purpose.CANCEL).rstrip("/").rsplit("/", 1)[1]

    response = visit(client, f"/p/confirm/{cancel_token}/")

    assert response.status_code == 404


def test_an_expired_link_explains_itself_without_showing_the_appointment(
    client, appointment, settings
):
    settings.SELF_SERVICE_LINK_MAX_AGE_DAYS = 3
    with time_machine.travel(BOOKED_AT, tick=False):
        url = link(appointment, Purpose.CANCEL)

    response = visit(client, url, when=BOOKED_AT + dt.timedelta(days=3, minutes=1))

    assert response.status_code == 410
    content = response.content.decode()
    assert "This link has expired" in content
    assert "links in our emails work for 3 days" in content
    assert "020 7946 0321" in content
    assert "Zoë" not in content
    assert "10:00" not in content


def test_self_service_pages_need_no_login_and_are_not_cached(client, appointment):
    response = visit(client, link(appointment, Purpose.CONFIRM))

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert 'name="robots" content="noindex, nofollow"' in response.content.decode()
    assert "Main navigation" in response.content.decode()
    assert "Sign out" not in response.content.decode()


# -- confirm ---------------------------------------------------------------------------------


def test_opening_the_confirm_link_changes_nothing_until_the_patient_presses_the_button(
    client, appointment
):
    url = link(appointment, Purpose.CONFIRM)
    page = visit(client, url)

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert "Wednesday 10 June 2026 at 10:00" in page.content.decode()
    assert "Yes, I'll be there" in page.content.decode()

    done = visit(client, url, data={})

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert "Thank you: your appointment is confirmed." in done.content.decode()
    again = visit(client, url)
    assert "You have confirmed this appointment" in again.content.decode()


def test_a_confirm_link_from_before_a_move_says_it_is_out_of_date(
    client, appointment, practitioner
):
    old_url = link(appointment, Purpose.CONFIRM)
    move(appointment, london(2026, 6, 11, 15), when=london(2026, 6, 4, 9))

    response = visit(client, old_url, data={})

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    content = response.content.decode()
    assert "This link is out of date" in content
    assert "11 June" not in content  # the holder of an old link learns nothing new
    assert "can no longer change the appointment" in content


# -- cancel ----------------------------------------------------------------------------------


def test_cancelling_before_the_notice_period_frees_the_time_and_sends_a_note(
    client, appointment, patient
):
    sweep(BOOKED_AT + dt.timedelta(minutes=3))
    url = link(appointment, Purpose.CANCEL)

    response = visit(client, url, data={})

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancellation_reason == "Cancelled by the patient through the email link"
    assert "Your appointment is cancelled" in response.content.decode()
    assert "This appointment is cancelled" in visit(client, url).content.decode()
    sweep(LOOKING_AT + dt.timedelta(minutes=3))
    assert sent_to(patient.email)[-1].subject.endswith("is cancelled")


def test_inside_the_notice_period_cancel_shows_the_clinic_phone_instead(client, appointment):
    url = link(appointment, Purpose.CANCEL)
    late = STARTS_AT - dt.timedelta(hours=23)

    page = visit(client, url, when=late)
    attempt = visit(client, url, when=late, data={})

    assert "can no longer be cancelled online" in page.content.decode()
    assert "020 7946 0321" in page.content.decode()
    assert "Cancel my appointment" not in page.content.decode()
    assert "Please call us on 020 7946 0321" in attempt.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_the_cancel_notice_period_is_a_setting(client, appointment, settings):
    settings.SELF_SERVICE_CANCEL_NOTICE_HOURS = 2
    visit(
        client, link(appointment, Purpose.CANCEL), when=STARTS_AT - dt.timedelta(hours=3), data={}
    )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED


def test_a_cancel_link_after_the_appointment_says_it_has_taken_place(client, appointment):
    response = visit(
        client, link(appointment, Purpose.CANCEL), when=STARTS_AT + dt.timedelta(hours=1)
    )
    assert "already taken place" in response.content.decode()


# -- reschedule ------------------------------------------------------------------------------


def test_moving_offers_free_times_and_books_the_chosen_one_through_the_service(
    client, appointment, patient
):
    url = link(appointment, Purpose.RESCHEDULE)
    page = visit(client, url)
    days = {day["day"]: day["times"] for day in page.context["days"]}
    assert min(days) == dt.date(2026, 6, 5)
    assert max(days) <= dt.date(2026, 6, 11)  # a week per page
    monday = [time.starts_at for time in days[dt.date(2026, 6, 8)]]
    assert len(monday) == 12  # spread over the whole day, not the first twelve
    assert (monday[0], monday[-1]) == (london(2026, 6, 8, 7), london(2026, 6, 8, 20))
    chosen = next(
        time for time in days[dt.date(2026, 6, 8)] if time.starts_at == london(2026, 6, 8, 11)
    )

    done = visit(client, url, data={"slot": chosen.value})

    appointment.refresh_from_db()
    assert appointment.starts_at == chosen.starts_at
    assert "Done: your appointment is now on Monday 8 June 2026 at 11:00" in done.content.decode()


def test_moving_to_a_time_that_is_not_free_explains_why_and_keeps_the_appointment(
    client, appointment, practitioner
):
    other = book(PatientFactory(), practitioner, london(2026, 6, 8, 11), when=BOOKED_AT)
    url = link(appointment, Purpose.RESCHEDULE)
    taken = slot_value(other.starts_at, practitioner.pk)

    response = visit(client, url, data={"slot": taken})

    appointment.refresh_from_db()
    assert appointment.starts_at == STARTS_AT
    assert response.context["error"]
    assert 'data-testid="error"' in response.content.decode()


def test_a_made_up_slot_is_refused_politely(client, appointment):
    response = visit(client, link(appointment, Purpose.RESCHEDULE), data={"slot": "tomorrow-ish"})
    assert "Please pick one of the times shown." in response.content.decode()


# -- unsubscribe -----------------------------------------------------------------------------


def test_unsubscribing_stops_follow_ups_and_is_audited(client, patient):
    url = path_of(links.unsubscribe_link(patient_id=patient.pk))

    page = visit(client, url)
    assert "Do you want to stop these emails?" in page.content.decode()
    done = visit(client, url, data={})

    patient.refresh_from_db()
    assert patient.followup_opt_out is True
    assert patient.email_reminders is True
    assert "no more follow-up or maintenance emails" in done.content.decode()
    entry = AuditEntry.objects.get(patient_id=patient.pk, detail__startswith="Unsubscribed")
    assert "followup_opt_out" in entry.after


def test_unsubscribing_can_stop_reminders_too(client, patient):
    url = path_of(links.unsubscribe_link(patient_id=patient.pk))
    visit(client, url, data={"also_reminders": "on"})
    patient.refresh_from_db()
    assert (patient.followup_opt_out, patient.email_reminders) == (True, False)


def test_one_click_unsubscribe_from_a_mail_program_works_without_a_form(patient):
    mail_program = Client(enforce_csrf_checks=True)
    url = path_of(links.unsubscribe_link(patient_id=patient.pk))

    response = mail_program.post(url, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.followup_opt_out is True


def test_the_unsubscribe_link_in_a_follow_up_email_is_the_one_that_works(
    client, practitioner, patient
):
    open_clinic_every_day(practitioner)
    series_after_sessions(
        patient=patient, practitioner=practitioner, performed=[london(2026, 5, 4, 10)]
    )
    sweep(london(2026, 5, 18, 9))
    [followup] = [m for m in sent_to(patient.email) if "next" in m.subject]
    header_url = re.match(r"<([^>]+)>", followup.extra_headers["List-Unsubscribe"]).group(1)

    visit(client, path_of(header_url), data={}, when=london(2026, 5, 18, 10))

    patient.refresh_from_db()
    assert patient.followup_opt_out is True


def test_links_of_an_erased_patient_open_nothing(client, appointment, patient):
    urls = [link(appointment, purpose) for purpose in (Purpose.CONFIRM, Purpose.CANCEL)]
    urls.append(path_of(links.unsubscribe_link(patient_id=patient.pk)))
    patient_erase(patient_id=patient.pk)

    assert [visit(client, url).status_code for url in urls] == [404, 404, 404]
