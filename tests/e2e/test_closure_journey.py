"""A manager closes the clinic on a day with two appointments booked: sees them listed,
cancels both after an "Are you sure?", and each patient's email opens a page offering new
times."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Appointment, AppointmentStatus
from bookings.services.appointments import appointment_book
from clinic.models import MessageKind, OutboundMessage
from tests.builders import LONDON, open_clinic_every_day, treatment_type
from tests.factories import PatientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_manager_closes_a_booked_day_and_the_patients_get_a_link_to_pick_a_new_time(
    page, browser, live_server, sign_in, settings, manager, practitioner, patient
):
    settings.CLINIC_BASE_URL = live_server.url
    open_clinic_every_day(practitioner)
    other = PatientFactory(given_name="Ines", family_name="Duarte", email="ines@patients.example")
    day = (timezone.now().astimezone(LONDON) + dt.timedelta(days=5)).date()
    with TestCase.captureOnCommitCallbacks(execute=True):
        for who, hour in ((patient, 10), (other, 11)):
            appointment_book(
                patient=who,
                practitioner=practitioner,
                treatment_type=treatment_type(),
                starts_at=dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON),
            )

    sign_in("malcolm")
    page.goto("/availability/closures/")
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Reason").fill("Burst pipe")
    page.get_by_role("button", name="Add closure").click()

    expect(page.get_by_role("heading", name=re.compile("Clinic closed on"))).to_be_visible()
    listed = page.get_by_test_id("affected-appointments")
    expect(listed.get_by_role("row")).to_have_count(3)  # header and two appointments
    expect(listed).to_contain_text("Zoë Adeyemi")
    expect(listed).to_contain_text("Ines Duarte")
    expect(listed.get_by_role("link", name=re.compile("^Move Zoë"))).to_be_visible()

    page.get_by_role(
        "link", name="Cancel these and email each patient a link to pick a new time"
    ).click()
    expect(page.get_by_test_id("confirm-summary")).to_contain_text(
        "Are you sure? 2 appointments will be cancelled and 2 patients emailed"
    )
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 2
    page.get_by_role("button", name="Yes, cancel 2 and email the patients").click()

    expect(page.get_by_text("2 appointment(s) cancelled; 2 patient(s) emailed")).to_be_visible()
    expect(page.get_by_text("No appointments are booked here any more.")).to_be_visible()
    assert OutboundMessage.objects.filter(kind=MessageKind.CANCELLED_BY_CLINIC).count() == 2
    [email] = [message for message in mail.outbox if patient.email in message.to]
    assert email.subject.startswith("We have had to cancel your appointment")
    link = re.search(r"https?://\S+/p/rebook/\S+/", email.body).group(0)

    patient_view = browser.new_context(base_url=live_server.url)
    phone = patient_view.new_page()
    phone.goto(link)
    expect(
        phone.get_by_role("heading", name="Pick a new time for your Crystal microdermabrasion")
    ).to_be_visible()
    phone.locator("[data-testid=slots] label").first.click()
    phone.get_by_role("button", name="Book this time").click()
    expect(phone.get_by_text("Done: your new time is booked.")).to_be_visible()
    patient_view.close()
    assert Appointment.objects.filter(patient=patient, status=AppointmentStatus.BOOKED).exists()
