"""iCalendar (RFC 5545) files for appointment emails, written by hand.

Pure: values in, text out. One file holds one appointment, or every session of a series
booked at once (:func:`events_calendar`, one VEVENT each). Times are written in UTC
(``...Z``) so no calendar has to know the clinic's zone rules. ``UID`` is stable per
appointment and ``SEQUENCE`` grows with every change, so a calendar that imported the first
file updates the same event from the next one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

CRLF = "\r\n"
MAX_LINE_OCTETS = 75


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold_line(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    parts: list[str] = []
    current = ""
    current_octets = 0
    limit = MAX_LINE_OCTETS
    for char in line:
        size = len(char.encode("utf-8"))
        if current_octets + size > limit:
            parts.append(current)
            current, current_octets = "", 0
            limit = MAX_LINE_OCTETS - 1  # continuation lines start with a space
        current += char
        current_octets += size
    parts.append(current)
    return (CRLF + " ").join(parts)


def utc_stamp(moment: dt.datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"iCalendar times must be aware, got naive {moment!r}")
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class CalendarEvent:
    """One appointment as a VEVENT: ``uid`` is stable for its whole life."""

    uid: str
    sequence: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    summary: str
    location: str
    description: str


def appointment_calendar(
    *,
    uid: str,
    sequence: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    summary: str,
    location: str,
    description: str,
    organizer_name: str,
    organizer_email: str,
    stamp: dt.datetime,
    cancelled: bool = False,
) -> str:
    """One VEVENT in a VCALENDAR: ``METHOD:PUBLISH`` or, for a cancellation, ``CANCEL``."""
    event = CalendarEvent(
        uid=uid,
        sequence=sequence,
        starts_at=starts_at,
        ends_at=ends_at,
        summary=summary,
        location=location,
        description=description,
    )
    return events_calendar(
        events=[event],
        organizer_name=organizer_name,
        organizer_email=organizer_email,
        stamp=stamp,
        cancelled=cancelled,
    )


def events_calendar(
    *,
    events: Sequence[CalendarEvent],
    organizer_name: str,
    organizer_email: str,
    stamp: dt.datetime,
    cancelled: bool = False,
) -> str:
    """Every event in one VCALENDAR (a series booked at once is one file, one VEVENT each)."""
    if not events:
        raise ValueError("A calendar file needs at least one event.")
    utc_stamp(stamp)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{escape_text(organizer_name)}//Appointments//EN",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancelled else 'PUBLISH'}",
    ]
    for event in events:
        lines.extend(
            _event_lines(
                event,
                organizer_name=organizer_name,
                organizer_email=organizer_email,
                stamp=stamp,
                cancelled=cancelled,
            )
        )
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + CRLF for line in lines)


def _event_lines(
    event: CalendarEvent,
    *,
    organizer_name: str,
    organizer_email: str,
    stamp: dt.datetime,
    cancelled: bool,
) -> list[str]:
    if event.sequence < 0:
        raise ValueError(f"sequence must not be negative, got {event.sequence}")
    for moment in (event.starts_at, event.ends_at):
        utc_stamp(moment)  # refuses naive datetimes before they are compared
    if event.ends_at <= event.starts_at:
        raise ValueError("An appointment must end after it starts.")
    return [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"SEQUENCE:{event.sequence}",
        f"DTSTAMP:{utc_stamp(stamp)}",
        f"DTSTART:{utc_stamp(event.starts_at)}",
        f"DTEND:{utc_stamp(event.ends_at)}",
        f"SUMMARY:{escape_text(event.summary)}",
        f"LOCATION:{escape_text(event.location)}",
        f"DESCRIPTION:{escape_text(event.description)}",
        f"ORGANIZER;CN={_param_value(organizer_name)}:mailto:{organizer_email}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
    ]


def _param_value(value: str) -> str:
    """A parameter value (RFC 5545 3.2): quoted, with double quotes dropped."""
    return '"' + value.replace('"', "") + '"'
