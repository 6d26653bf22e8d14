"""iCalendar (RFC 5545) files for appointment emails, written by hand.

Pure: values in, text out. Times are written in UTC (``...Z``) so no calendar has to know the
clinic's zone rules. ``UID`` is stable per appointment and ``SEQUENCE`` grows with every
change, so a calendar that imported the first file updates the same event from the next one.
"""

from __future__ import annotations

import datetime as dt

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
    if sequence < 0:
        raise ValueError(f"sequence must not be negative, got {sequence}")
    for moment in (starts_at, ends_at, stamp):
        utc_stamp(moment)  # refuses naive datetimes before they are compared
    if ends_at <= starts_at:
        raise ValueError("An appointment must end after it starts.")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{escape_text(organizer_name)}//Appointments//EN",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancelled else 'PUBLISH'}",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"SEQUENCE:{sequence}",
        f"DTSTAMP:{utc_stamp(stamp)}",
        f"DTSTART:{utc_stamp(starts_at)}",
        f"DTEND:{utc_stamp(ends_at)}",
        f"SUMMARY:{escape_text(summary)}",
        f"LOCATION:{escape_text(location)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"ORGANIZER;CN={_param_value(organizer_name)}:mailto:{organizer_email}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold_line(line) + CRLF for line in lines)


def _param_value(value: str) -> str:
    """A parameter value (RFC 5545 3.2): quoted, with double quotes dropped."""
    return '"' + value.replace('"', "") + '"'
