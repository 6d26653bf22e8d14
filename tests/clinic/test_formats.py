"""Dates are written one way: on pages, in emails and in rule messages, through Django's formats."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.template import Context, Template

from bookings.rules import BookingError
from bookings.services.availability import closure_add
from clinic import formats
from clinic.models import ClinicClosure
from tests.builders import book, london, open_clinic_every_day, sent_to, sweep

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
# 08:04 UTC on a summer day is 09:04 on the clinic's clock (BST).
SUMMER_MORNING = dt.datetime(2026, 7, 2, 8, 4, tzinfo=UTC)


@pytest.mark.parametrize(
    ("write", "value", "text"),
    [
        (formats.long_date, dt.date(2026, 12, 3), "Thursday 3 December 2026"),
        (formats.plain_date, dt.date(2026, 12, 3), "3 December 2026"),
        (formats.short_date, dt.date(2026, 12, 3), "3 Dec 2026"),
        (formats.day_heading, dt.date(2026, 12, 3), "Thu 3 Dec"),
        (formats.weekday, dt.date(2026, 12, 3), "Thursday"),
        (formats.clock_time, dt.time(9, 5), "09:05"),
        (formats.clock_time, dt.time(17, 30), "17:30"),
        (formats.long_date, SUMMER_MORNING, "Thursday 2 July 2026"),
        (formats.clock_time, SUMMER_MORNING, "09:04"),
        (formats.long_datetime, SUMMER_MORNING, "Thursday 2 July 2026 at 09:04"),
        (formats.short_datetime, SUMMER_MORNING, "2 Jul 2026, 09:04"),
        # 23:30 UTC on 24 October is already Sunday 25 October in London (00:30 BST).
        (
            formats.long_date,
            dt.datetime(2026, 10, 24, 23, 30, tzinfo=UTC),
            "Sunday 25 October 2026",
        ),
    ],
)
def test_each_length_of_the_one_style_reads_day_first_without_leading_zeros(write, value, text):
    assert write(value) == text


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (dt.date(2026, 3, 12), "Thursday 12 March 2026"),
        (dt.date(2026, 1, 1), "Thursday 1 January 2026"),
        (dt.date(2028, 2, 29), "Tuesday 29 February 2028"),
        (dt.date(2026, 10, 25), "Sunday 25 October 2026"),
    ],
)
def test_long_dates_read_naturally_without_leading_zeros(day, text):
    assert formats.long_date(day) == text


def test_pure_code_can_write_a_moment_in_its_own_zone():
    new_york = ZoneInfo("America/New_York")
    assert formats.short_datetime(SUMMER_MORNING, new_york) == "2 Jul 2026, 04:04"


def test_templates_name_the_same_formats_as_python():
    template = Template(
        '{{ day|date:"LONG_DATE_FORMAT" }}|{{ day|date:"SHORT_DATE_FORMAT" }}|'
        '{{ moment|date:"LONG_DATETIME_FORMAT" }}|{{ moment|date:"SHORT_DATETIME_FORMAT" }}|'
        "{{ moment|time }}|{{ day|date }}"
    )
    day = dt.date(2026, 12, 3)
    rendered = template.render(Context({"day": day, "moment": SUMMER_MORNING}))
    assert rendered.split("|") == [
        formats.long_date(day),
        formats.short_date(day),
        formats.long_datetime(SUMMER_MORNING),
        formats.short_datetime(SUMMER_MORNING),
        "09:04",
        "3 December 2026",
    ]


@pytest.mark.django_db
def test_a_rule_message_writes_the_day_in_the_one_style():
    ClinicClosure.objects.create(date=dt.date(2026, 12, 9), reason="Training")
    with pytest.raises(BookingError) as refused:
        closure_add(date=dt.date(2026, 12, 9), reason="Again", tz=LONDON)
    assert refused.value.message == "The clinic is already closed on Wednesday 9 December 2026."


@pytest.mark.django_db
def test_the_closures_page_confirms_a_closure_in_the_one_style(client: Any, manager: Any):
    client.force_login(manager)
    with time_machine.travel(dt.datetime(2026, 12, 1, 10, tzinfo=UTC), tick=False):
        response = client.post("/availability/closures/", {"date": "2026-12-09", "reason": "Pipes"})
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert messages[0] == "The clinic is closed on Wednesday 9 December 2026."


@pytest.mark.django_db
def test_the_booking_email_writes_the_appointment_in_the_one_style(
    practitioner: Any, second_practitioner: Any, patient: Any
):
    open_clinic_every_day(practitioner, second_practitioner)
    booked_at = london(2026, 11, 20, 12)
    book(patient, practitioner, london(2026, 12, 3, 9), when=booked_at)
    sweep(booked_at + dt.timedelta(minutes=5))
    [confirmation] = sent_to(patient.email)
    assert confirmation.subject == "Your appointment on Thursday 3 December 2026 at 09:00 is booked"
    assert "Thursday 3 December 2026 at 09:00" in confirmation.body
