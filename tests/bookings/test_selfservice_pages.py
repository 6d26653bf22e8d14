"""Patient pages tell the truth (issue 12, leak 7).

A mistyped, truncated or tampered ``/p/`` address shows the patient's "call us" page (never
Django's debug page or the staff sign-in); after a move the page says where the appointment
is now; after a cancellation it promises an email only when the ledger will hold one; the
unsubscribe page offers a way back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import override_settings

from bookings import links
from bookings.links import Purpose
from bookings.services.appointments import appointment_reschedule
from clinic.models import AuditEntry, MessageKind
from tests.builders import at, book, ledger, london, open_clinic_every_day, sweep

pytestmark = pytest.mark.django_db

BOOKED_AT = london(2026, 6, 1, 12)
STARTS_AT = london(2026, 6, 10, 10)
LOOKING_AT = london(2026, 6, 5, 18)


@pytest.fixture
def appointment(practitioner: Any, patient: Any) -> Any:
    open_clinic_every_day(practitioner)
    booked = book(patient, practitioner, STARTS_AT, when=BOOKED_AT)
    sweep(BOOKED_AT + dt.timedelta(minutes=5))  # the confirmation went: the patient was told
    return booked


def link(appointment: Any, purpose: Purpose) -> str:
    return urlsplit(
        links.appointment_link(
            purpose=purpose, appointment_id=appointment.pk, starts_at=appointment.starts_at
        )
    ).path


def visit(
    client: Any, url: str, *, data: Any = None, when: dt.datetime = LOOKING_AT, follow: bool = False
) -> Any:
    with at(when):
        if data is None:
            return client.get(url, follow=follow)
        return client.post(url, data, follow=True)


# -- links that do not work ---------------------------------------------------------------------


def _broken_addresses(appointment: Any) -> list[str]:
    url = link(appointment, Purpose.CANCEL)
    token = url.rstrip("/").rsplit("/", 1)[1]
    return [
        url[: len(url) // 2],  # cut short by a mail program
        url.replace(token, token[:-3]),  # truncated token
        url.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB")),
        "/p/cancel/",  # no token at all
        "/p/cancle/" + token + "/",  # mistyped
        "/p/",
        "/p/unsubscribe/not-a-token/",
        "/p/pick/not-a-token/",
    ]


@pytest.mark.parametrize("debug", [True, False], ids=["debug-on", "debug-off"])
def test_a_mistyped_truncated_or_tampered_patient_link_shows_the_call_us_page(
    client, appointment, debug
):
    with override_settings(DEBUG=debug):
        for address in _broken_addresses(appointment):
            response = visit(client, address, follow=True)

            content = response.content.decode()
            assert response.status_code == 404, address
            assert "This link doesn't work" in content, address
            assert "020 7946 0321" in content, address
            assert "Page not found" not in content, address
            assert "Sign in" not in content, address
            assert "/accounts/login/" not in content, address
            assert "Zoë" not in content, address
            assert "10:00" not in content, address


def test_a_patient_link_missing_its_last_slash_still_opens(client, appointment):
    url = link(appointment, Purpose.CONFIRM)

    response = visit(client, url.rstrip("/"))

    assert response.status_code in (301, 302)
    assert response["Location"] == url


# -- move ---------------------------------------------------------------------------------------


def test_after_a_patient_moves_the_page_says_done_and_the_new_time(client, appointment):
    url = link(appointment, Purpose.RESCHEDULE)
    chosen = next(
        time
        for day in visit(client, url).context["days"]
        for time in day["times"]
        if time.starts_at == london(2026, 6, 8, 11)
    )

    done = visit(client, url, data={"slot": chosen.value})

    content = done.content.decode()
    assert "Done: your appointment is now on Monday 8 June 2026 at 11:00" in content
    assert "This link is out of date" not in content
    # Opened again later, the old link says only that it is out of date: not the new time.
    later = visit(client, url).content.decode()
    assert "This link is out of date" in later
    assert "8 June" not in later
    assert "11:00" not in later


@pytest.mark.parametrize("purpose", [Purpose.CONFIRM, Purpose.CANCEL, Purpose.RESCHEDULE])
def test_an_old_link_after_a_move_tells_its_holder_neither_the_new_time_nor_practitioner(
    client, appointment, second_practitioner, purpose
):
    open_clinic_every_day(second_practitioner)
    old_url = link(appointment, purpose)
    with at(london(2026, 6, 4, 9)):
        appointment_reschedule(
            appointment=appointment,
            starts_at=london(2026, 6, 11, 15),
            practitioner=second_practitioner,
        )

    content = visit(client, old_url).content.decode()

    assert "This link is out of date" in content
    assert "020 7946 0321" in content  # how to reach the clinic
    for detail in ("11 June", "15:00", "10 June", second_practitioner.display_name, "Amara Okafor"):
        assert detail not in content, detail


# -- cancel -------------------------------------------------------------------------------------


def test_a_patient_cancellation_records_exactly_one_cancellation_note(client, appointment, patient):
    done = visit(client, link(appointment, Purpose.CANCEL), data={})
    sweep(LOOKING_AT + dt.timedelta(minutes=5))
    sweep(LOOKING_AT + dt.timedelta(minutes=10))

    assert "We will email you a note of it" in done.content.decode()
    notes = ledger(kind=MessageKind.BOOKING_CANCELLED, patient=patient)
    assert len(notes) == 1
    assert notes[0].object_id == appointment.pk
    assert notes[0].status == "sent"


def test_a_cancellation_page_promises_no_email_to_a_patient_without_an_address(
    client, appointment, patient
):
    patient.email = ""
    patient.save(update_fields=["email"])

    done = visit(client, link(appointment, Purpose.CANCEL), data={})
    sweep(LOOKING_AT + dt.timedelta(minutes=5))

    content = done.content.decode()
    assert "Your appointment is cancelled" in content
    assert "email" not in content.split("Your appointment is cancelled", 1)[1].split("<", 1)[0]
    assert ledger(kind=MessageKind.BOOKING_CANCELLED, status="pending") == []
    assert ledger(kind=MessageKind.BOOKING_CANCELLED, status="sent") == []


# -- unsubscribe --------------------------------------------------------------------------------


def test_the_unsubscribe_page_offers_a_way_back(client, patient):
    url = urlsplit(links.unsubscribe_link(patient_id=patient.pk)).path
    visit(client, url, data={"also_reminders": "on"})
    patient.refresh_from_db()
    assert (patient.followup_opt_out, patient.email_reminders) == (True, False)

    page = visit(client, url)
    assert "Subscribe again" in page.content.decode()
    back = visit(client, url, data={"action": "subscribe"})

    patient.refresh_from_db()
    assert (patient.followup_opt_out, patient.email_reminders) == (False, True)
    assert "you will get our emails again" in back.content.decode()
    entries = AuditEntry.objects.filter(patient_id=patient.pk, detail__icontains="email link")
    assert entries.count() == 2
