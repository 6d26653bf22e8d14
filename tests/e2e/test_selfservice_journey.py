"""A patient on a phone follows the links in their emails: confirm, move, then cancel.

No login anywhere; every change goes through the booking services, and each step's email
carries the links for the next one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone
from playwright.sync_api import expect

from bookings.links import unsubscribe_link
from bookings.models import Appointment, AppointmentStatus
from bookings.services.appointments import appointment_book
from bookings.tasks import sweep_patient_messages
from tests.builders import LONDON, open_clinic_every_day, treatment_type

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser: Any, live_server: Any, settings: Any) -> Iterator[Any]:
    """A phone-sized browser, and emails whose links point at the live server."""
    settings.CLINIC_BASE_URL = live_server.url
    settings.BOOKING_NOTICE_GRACE_SECONDS = 0
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def latest_email_to(address: str) -> Any:
    sweep_patient_messages.delay()
    return [message for message in mail.outbox if address in message.to][-1]


def link_in(message: Any, kind: str) -> str:
    match = re.search(rf"https?://\S+/p/{kind}/\S+/", message.body)
    assert match, f"no {kind} link in {message.subject!r}"
    return match.group(0)


def fits_the_screen(page: Any) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_patient_confirms_moves_and_cancels_from_their_phone(phone, practitioner, patient):
    open_clinic_every_day(practitioner)
    day = (timezone.now().astimezone(LONDON) + dt.timedelta(days=5)).date()
    starts_at = dt.datetime.combine(day, dt.time(10), tzinfo=LONDON)
    with TestCase.captureOnCommitCallbacks(execute=True):
        appointment = appointment_book(
            patient=patient,
            practitioner=practitioner,
            treatment_type=treatment_type(),
            starts_at=starts_at,
        )

    booked = latest_email_to(patient.email)
    assert booked.subject.endswith("is booked")

    # Confirm.
    phone.goto(link_in(booked, "confirm"))
    expect(phone.get_by_role("heading", name="Your appointment")).to_be_visible()
    assert "at 10:00" in phone.get_by_test_id("appointment-when").inner_text()
    assert fits_the_screen(phone)
    phone.get_by_role("button", name="Yes, I'll be there").click()
    expect(phone.get_by_text("Thank you: your appointment is confirmed.")).to_be_visible()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED

    # Move it to the first free time offered on the fourth day listed (beyond the notice).
    phone.goto(link_in(booked, "reschedule"))
    expect(phone.get_by_role("heading", name="Pick a new time")).to_be_visible()
    assert fits_the_screen(phone)
    first_time = phone.locator("[data-testid=slots] fieldset").nth(3).locator("label.btn").first
    chosen_label = first_time.inner_text()
    first_time.click()
    phone.get_by_role("button", name="Move my appointment to this time").click()
    done = phone.get_by_text("Done: your appointment is now on")
    expect(done).to_be_visible()
    expect(phone.get_by_text("This link was for an earlier time")).to_have_count(0)
    assert fits_the_screen(phone)
    appointment.refresh_from_db()
    assert appointment.starts_at != starts_at
    assert appointment.starts_at.astimezone(LONDON).strftime("%H:%M") in chosen_label
    assert appointment.starts_at.astimezone(LONDON).strftime("at %H:%M") in done.inner_text()

    moved = latest_email_to(patient.email)
    assert moved.subject.startswith("Your appointment has moved to")

    # Cancel from the newest email.
    phone.goto(link_in(moved, "cancel"))
    phone.get_by_role("button", name="Cancel my appointment").click()
    expect(phone.get_by_text("Your appointment is cancelled.").first).to_be_visible()
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.CANCELLED
    assert latest_email_to(patient.email).subject.endswith("is cancelled")

    # The first email's confirm link now explains itself; a tampered one shows nothing.
    phone.goto(link_in(booked, "confirm"))
    expect(phone.get_by_text("This appointment is cancelled.")).to_be_visible()
    response = phone.goto(link_in(booked, "confirm")[:-6] + "zzzzz/")
    assert response.status == 404
    assert patient.given_name not in phone.content()
    # So does one cut short by a mail program: the patient's page, with the phone number.
    response = phone.goto(link_in(booked, "confirm")[:-20])
    assert response.status == 404
    expect(phone.get_by_role("heading", name="This link doesn't work")).to_be_visible()
    expect(phone.get_by_role("link", name="020 7946 0321").first).to_be_visible()
    assert fits_the_screen(phone)


def test_patient_unsubscribes_and_subscribes_again_from_their_phone(phone, patient):
    phone.goto(unsubscribe_link(patient_id=patient.pk))
    expect(phone.get_by_role("heading", name="Email preferences")).to_be_visible()
    assert fits_the_screen(phone)
    phone.get_by_label("Also stop appointment reminders and aftercare emails").check()
    phone.get_by_role("button", name="Unsubscribe").click()
    expect(phone.get_by_text("You are unsubscribed from follow-up, maintenance")).to_be_visible()
    patient.refresh_from_db()
    assert (patient.followup_opt_out, patient.email_reminders) == (True, False)

    phone.get_by_role("button", name="Subscribe again").click()

    expect(phone.get_by_text("Welcome back: you will get our emails again.")).to_be_visible()
    expect(phone.get_by_role("button", name="Subscribe again")).to_have_count(0)
    assert fits_the_screen(phone)
    patient.refresh_from_db()
    assert (patient.followup_opt_out, patient.email_reminders) == (False, True)
