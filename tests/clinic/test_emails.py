"""Every email kind: plain text and HTML from templates, the clinic's name and contact, the
headers and attachments its kind needs, and nothing it must not carry."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core import mail

from clinic import emails

APPOINTMENT = emails.AppointmentDetails(
    when="Monday 30 March 2026 at 10:00",
    treatment="Crystal microdermabrasion",
    practitioner="Amara Okafor",
)
LINKS = emails.PatientLinks(
    confirm="https://clinic.example/p/confirm/abc/",
    cancel="https://clinic.example/p/cancel/abc/",
    reschedule="https://clinic.example/p/reschedule/abc/",
)
CALENDAR = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
UNSUBSCRIBE = "https://clinic.example/p/unsubscribe/xyz/"

KINDS: dict[str, Callable[[], emails.RenderedEmail]] = {
    "booking_confirmation": lambda: emails.booking_confirmation(
        given_name="Zoë", appointment=APPOINTMENT, links=LINKS, calendar=CALENDAR
    ),
    "booking_rescheduled": lambda: emails.booking_rescheduled(
        given_name="Zoë",
        appointment=APPOINTMENT,
        previous_when="Friday 27 March 2026 at 15:30",
        links=LINKS,
        calendar=CALENDAR,
    ),
    "booking_cancelled": lambda: emails.booking_cancelled(
        given_name="Zoë", appointment=APPOINTMENT, calendar=CALENDAR
    ),
    "appointment_reminder": lambda: emails.appointment_reminder(
        given_name="Zoë",
        appointment=APPOINTMENT,
        links=LINKS,
        confirmed=False,
        lead_time="in 2 days",
    ),
    "aftercare": lambda: emails.aftercare(
        given_name="Zoë",
        treatment="Crystal microdermabrasion",
        session_day="Monday 30 March 2026",
        advice="Wear sunscreen.\n\nCall us if redness lasts.",
    ),
    "series_followup": lambda: emails.series_followup(
        given_name="Zoë",
        treatment="Crystal microdermabrasion",
        window_opens="Monday 13 April 2026",
        window_closes="Monday 27 April 2026",
        closing=False,
        pick_url="https://clinic.example/p/pick/def/",
        unsubscribe_url=UNSUBSCRIBE,
    ),
    "maintenance_reminder": lambda: emails.maintenance_reminder(
        given_name="Zoë",
        treatment="Crystal microdermabrasion",
        last_session_day="Monday 30 March 2026",
        unsubscribe_url=UNSUBSCRIBE,
    ),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_email_has_text_and_html_with_the_clinics_name_and_contact(kind):
    email = KINDS[kind]()

    assert email.subject
    assert "\n" not in email.subject
    for body in (email.text, email.html):
        assert "Fairview Skin Clinic" in body
        assert "020 7946 0321" in body
        assert "reception@clinic.example" in body
        assert "12 Harley Row, London W1G 9QD" in body
        assert "Zoë" in body
    assert email.html.lstrip().startswith("<!doctype html>")
    assert "<p>" not in email.text
    assert "\n\n\n" not in email.text  # paragraphs, not template leftovers


@pytest.mark.parametrize("kind", ["series_followup", "maintenance_reminder"])
def test_follow_up_and_maintenance_mail_carries_list_unsubscribe(kind):
    email = KINDS[kind]()

    assert email.headers["List-Unsubscribe"] == (
        f"<{UNSUBSCRIBE}>, <mailto:reception@clinic.example?subject=unsubscribe>"
    )
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert UNSUBSCRIBE in email.text
    assert UNSUBSCRIBE in email.html


@pytest.mark.parametrize(
    "kind", ["booking_confirmation", "booking_rescheduled", "booking_cancelled", "aftercare"]
)
def test_appointment_and_aftercare_mail_has_no_unsubscribe_header(kind):
    assert "List-Unsubscribe" not in KINDS[kind]().headers


@pytest.mark.parametrize(
    ("kind", "method"),
    [
        ("booking_confirmation", "PUBLISH"),
        ("booking_rescheduled", "PUBLISH"),
        ("booking_cancelled", "CANCEL"),
    ],
)
def test_booking_notices_attach_a_calendar_file(kind, method):
    [attachment] = KINDS[kind]().attachments
    assert attachment.filename == "appointment.ics"
    assert attachment.mimetype == f"text/calendar; method={method}; charset=UTF-8"
    assert attachment.content == CALENDAR


def test_reminder_links_let_the_patient_confirm_move_or_cancel():
    email = KINDS["appointment_reminder"]()
    assert email.subject == "Reminder: your appointment in 2 days, Monday 30 March 2026 at 10:00"
    for link in (LINKS.confirm, LINKS.cancel, LINKS.reschedule):
        assert link in email.text
        assert f'href="{link}"' in email.html


def test_a_reminder_inside_the_notice_period_offers_the_phone_instead_of_links():
    email = emails.appointment_reminder(
        given_name="Zoë",
        appointment=APPOINTMENT,
        links=emails.PatientLinks(),
        confirmed=True,
        lead_time="today",
    )
    assert "/p/" not in email.text
    assert "To change or cancel, please call us on 020 7946 0321." in email.text
    assert "Thank you for confirming" in email.text


def test_html_escapes_what_a_patient_or_staff_member_typed():
    email = emails.aftercare(
        given_name="<script>alert(1)</script>",
        treatment="Crystal microdermabrasion",
        session_day="Monday 30 March 2026",
        advice="Use <b>sunscreen</b> & moisturiser.",
    )
    assert "<script>" not in email.html
    assert "&lt;script&gt;" in email.html
    assert "&lt;b&gt;sunscreen&lt;/b&gt; &amp; moisturiser" in email.html
    # Plain text is not HTML: nothing is escaped there.
    assert "Use <b>sunscreen</b> & moisturiser." in email.text


def test_deliver_sends_text_html_attachment_and_headers_as_recorded(settings):
    email = KINDS["booking_confirmation"]()
    emails.deliver(
        to="zoe@patients.example",
        subject=email.subject,
        text=email.text,
        html=email.html,
        headers={"List-Unsubscribe": "<https://x.example/u/>"},
        attachments=[attachment.as_dict() for attachment in email.attachments],
        idempotency_key="confirmation:appointment:1:1",
    )

    [sent] = mail.outbox
    assert sent.to == ["zoe@patients.example"]
    assert sent.from_email == settings.DEFAULT_FROM_EMAIL
    assert sent.body == email.text
    assert sent.alternatives[0][0] == email.html
    assert sent.attachments[0][0] == "appointment.ics"
    assert sent.extra_headers["List-Unsubscribe"] == "<https://x.example/u/>"
    assert sent.extra_headers["Message-ID"] == emails.message_id_for("confirmation:appointment:1:1")


def test_message_ids_are_stable_per_message_and_differ_between_messages():
    first = emails.message_id_for("reminder:48h:appointment:1:2026-03-30T09:00:00+00:00")
    again = emails.message_id_for("reminder:48h:appointment:1:2026-03-30T09:00:00+00:00")
    other = emails.message_id_for("reminder:2h:appointment:1:2026-03-30T09:00:00+00:00")
    assert first == again
    assert first != other
