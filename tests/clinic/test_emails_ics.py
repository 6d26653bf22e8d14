"""The hand-written iCalendar files (RFC 5545) attached to booking notices."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from clinic import ics

LONDON = ZoneInfo("Europe/London")


def calendar(**overrides: object) -> str:
    values: dict[str, object] = {
        "uid": "appointment-12@clinic.example",
        "sequence": 3,
        "starts_at": dt.datetime(2026, 3, 30, 10, tzinfo=LONDON),
        "ends_at": dt.datetime(2026, 3, 30, 10, 30, tzinfo=LONDON),
        "summary": "Crystal microdermabrasion at Fairview Skin Clinic",
        "location": "12 Harley Row, London W1G 9QD",
        "description": "Crystal microdermabrasion with Amara Okafor; call 020 7946 0321.",
        "organizer_name": "Fairview Skin Clinic",
        "organizer_email": "reception@clinic.example",
        "stamp": dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC),
    }
    values.update(overrides)
    return ics.appointment_calendar(**values)  # type: ignore[arg-type]


def test_times_are_written_in_utc_across_a_dst_change():
    text = calendar()
    # 10:00 on Monday 30 March 2026 is BST (the clocks went forward on the 29th): 09:00 UTC.
    assert "DTSTART:20260330T090000Z\r\n" in text
    assert "DTEND:20260330T093000Z\r\n" in text
    assert "DTSTAMP:20260320T120000Z\r\n" in text


def test_uid_and_sequence_identify_and_version_the_event():
    text = calendar()
    assert "UID:appointment-12@clinic.example\r\n" in text
    assert "SEQUENCE:3\r\n" in text
    assert "METHOD:PUBLISH\r\n" in text
    assert "STATUS:CONFIRMED\r\n" in text


def test_a_cancellation_is_a_cancel_of_the_same_event():
    text = calendar(cancelled=True, sequence=4)
    assert "METHOD:CANCEL\r\n" in text
    assert "STATUS:CANCELLED\r\n" in text
    assert "UID:appointment-12@clinic.example\r\n" in text


def test_every_line_ends_with_crlf_and_the_calendar_is_balanced():
    text = calendar()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VEVENT\r\nEND:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")


def test_text_values_are_escaped():
    text = calendar(description="Bring: glasses, a list; and\nyour questions\\notes")
    assert "DESCRIPTION:Bring: glasses\\, a list\\; and\\nyour questions\\\\notes" in (
        text.replace("\r\n ", "")
    )


def test_long_lines_are_folded_at_75_octets_without_splitting_a_character():
    text = calendar(description="Zoë " * 40)
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    unfolded = text.replace("\r\n ", "")
    assert "DESCRIPTION:" + "Zoë " * 39 + "Zoë \r\n" in unfolded


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("starts_at", dt.datetime(2026, 3, 30, 10), "aware"),  # noqa: DTZ001 - the point
        ("sequence", -1, "sequence"),
        ("ends_at", dt.datetime(2026, 3, 30, 9, tzinfo=LONDON), "end after"),
    ],
)
def test_bad_input_is_refused(field, value, message):
    with pytest.raises(ValueError, match=message):
        calendar(**{field: value})
