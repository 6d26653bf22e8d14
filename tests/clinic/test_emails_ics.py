"""The hand-written iCalendar files (RFC 5545) attached to booking notices."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
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


def parsed(text: str) -> tuple[icalendar.Calendar, icalendar.Event]:
    """The calendar as a calendar app reads it (a real RFC 5545 parser), and its one event."""
    calendar = icalendar.Calendar.from_ical(text)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def test_times_are_written_in_utc_across_a_dst_change():
    _calendar, event = parsed(calendar())
    # 10:00 on Monday 30 March 2026 is BST (the clocks went forward on the 29th): 09:00 UTC.
    starts, ends, stamp = (event.decoded(name) for name in ("DTSTART", "DTEND", "DTSTAMP"))
    assert starts == dt.datetime(2026, 3, 30, 10, tzinfo=LONDON)
    assert ends == dt.datetime(2026, 3, 30, 10, 30, tzinfo=LONDON)
    assert stamp == dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)
    assert {moment.utcoffset() for moment in (starts, ends, stamp)} == {dt.timedelta(0)}
    assert (starts.hour, starts.minute) == (9, 0)


def test_uid_sequence_and_what_the_patient_reads_are_in_the_event():
    text = calendar()
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    vcalendar, event = parsed(text)
    assert (str(vcalendar["VERSION"]), str(vcalendar["METHOD"])) == ("2.0", "PUBLISH")
    assert str(event["UID"]) == "appointment-12@clinic.example"
    assert event.decoded("SEQUENCE") == 3
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Crystal microdermabrasion at Fairview Skin Clinic"
    assert str(event["LOCATION"]) == "12 Harley Row, London W1G 9QD"
    assert str(event["ORGANIZER"]) == "mailto:reception@clinic.example"
    assert event["ORGANIZER"].params["CN"] == "Fairview Skin Clinic"


def test_a_cancellation_is_a_cancel_of_the_same_event():
    vcalendar, event = parsed(calendar(cancelled=True, sequence=4))
    assert str(vcalendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == "appointment-12@clinic.example"
    assert event.decoded("SEQUENCE") == 4


def test_every_line_ends_with_crlf():
    text = calendar()
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")


def test_text_values_are_escaped():
    description = "Bring: glasses, a list; and\nyour questions\\notes"
    _calendar, event = parsed(calendar(description=description))
    assert str(event["DESCRIPTION"]) == description


def test_long_lines_are_folded_at_75_octets_without_splitting_a_character():
    text = calendar(description="Zoë " * 40)
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    _calendar, event = parsed(text)
    assert str(event["DESCRIPTION"]) == "Zoë " * 40


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
