"""``{% calendar_rows rows %}``: the body of the day and week calendar tables.

A busy day is 20 columns by about 50 rows: rendering each cell through ``{% include %}`` cost
about 120 ms a page on the benchmark clinic (``make bench``), five times the whole budget.
This builds the same markup with plain string formatting, every value escaped: about 5 ms.
It draws what :func:`bookings.calendar.layout_grid` decided; it decides nothing itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape as html_escape
from typing import Any

from django import template
from django.urls import reverse
from django.utils import dateformat
from django.utils.safestring import SafeString, mark_safe

from bookings.calendar import Card, Cell, Column, Placement, Row

register = template.Library()


def escape(value: Any) -> str:
    """What ``django.utils.html.escape`` produces (``html.escape`` of the string), without
    its lazy-string wrapper: thousands of calls on a busy day."""
    return html_escape(str(value))


_PK_MARK = "987654321"  # stands for the appointment id in the reversed detail URL

EN_DASH = "\u2013"
SUITABILITY_LABELS = {"suitable": "Suitable", "caution": "Caution"}
NO_ASSESSMENT = (
    '<span class="badge badge-unknown" data-testid="suitability-badge">No assessment yet</span>'
)


@register.simple_tag
def calendar_rows(rows: Sequence[Row], book_query: str = "", booking_for: Any = None) -> SafeString:
    """``book_query`` (already URL-encoded, e.g. ``patient=3&series=7``) is added to every
    free cell's link when the calendar was opened to book for one patient."""
    book_url = reverse("bookings:appointment_new")
    extra = f"&amp;{escape(book_query)}" if book_query else ""
    who = (
        f"{escape(booking_for['patient'].full_name)} with "
        if booking_for and booking_for.get("patient")
        else ""
    )
    detail_url = reverse("bookings:appointment_detail", args=[int(_PK_MARK)])
    long_dates: dict[date, str] = {}
    free_links: dict[int, tuple[str, str]] = {}
    html: list[str] = []
    for row in rows:
        label = escape(row.label)
        hour_class = "cal-hour" if row.label[3:] == "00" else ""
        html.append(f'<tr class="{hour_class}">\n<th scope="row" class="cal-time">{label}</th>')
        for cell in row.cells:
            html.append(
                _cell(cell, label, book_url, detail_url, long_dates, free_links, extra, who)
            )
        html.append("</tr>")
    return mark_safe("\n".join(html))  # noqa: S308 - every value above is escaped


def _cell(
    cell: Cell,
    label: str,
    book_url: str,
    detail_url: str,
    long_dates: dict[date, str],
    free_links: dict[int, tuple[str, str]],
    extra: str = "",
    who: str = "",
) -> str:
    kind = cell.kind
    if kind == "covered":
        return ""
    if kind == "card":
        cards = "".join(
            _card(placement, cell, detail_url=detail_url) for placement in cell.placements
        )
        return f'<td rowspan="{cell.rowspan}" class="cal-card" data-cal-lanes>{cards}</td>'
    if kind == "free":
        column = cell.column
        parts = free_links.get(id(column))
        if parts is None:
            parts = free_links[id(column)] = _free_link_parts(column, book_url, long_dates)
        href, aria = parts
        return (
            f'<td class="cal-free"><a href="{href}{label}{extra}" class="cal-free-link" '
            f'data-cal-cell data-testid="free-slot" aria-label="Book {who}{aria}{label}">'
            '<span aria-hidden="true">+</span></a></td>'
        )
    if kind == "buffer":
        return '<td class="cal-buffer"><span class="visually-hidden">Cleanup time</span></td>'
    if kind == "past":
        return '<td class="cal-past"></td>'
    return '<td class="cal-closed"><span class="visually-hidden">Not available</span></td>'


def _free_link_parts(
    column: Column | None, book_url: str, long_dates: dict[date, str]
) -> tuple[str, str]:
    """What every free cell of a column shares: the link up to its time, and the label."""
    practitioner = column.extra if column is not None else None
    day = column.day if column is not None else None
    practitioner_pk = practitioner.pk if practitioner is not None else ""
    name = escape(practitioner.display_name) if practitioner is not None else ""
    iso_day = day.isoformat() if day is not None else ""
    if day is not None and day not in long_dates:
        long_dates[day] = escape(dateformat.format(day, "l j F"))
    long_day = long_dates.get(day, "") if day is not None else ""
    return (
        f"{book_url}?practitioner={practitioner_pk}&amp;date={iso_day}&amp;time=",
        f"{name} on {long_day} at ",
    )


def _card(placement: Placement, cell: Cell, *, detail_url: str) -> str:
    card: Card = placement.item
    column = cell.column
    practitioner = column.extra if column is not None else None
    colour = escape(getattr(practitioner, "colour", "") or "")
    status = escape(card.status)
    starts = card.local_start.strftime("%H:%M")
    ends = card.local_end.strftime("%H:%M")
    patient = escape(card.patient_name)
    treatment = escape(card.treatment_name)
    status_label = escape(card.status_label)
    session_text = f" · {escape(card.session_label)}" if card.session_label else ""
    href = detail_url.replace(_PK_MARK, str(card.pk))
    badges = (
        f'<span class="badge status-{status}" data-testid="status-badge">{status_label}</span> '
        f"{_suitability(card)}"
    )
    if card.overdue:
        badges += ' <span class="badge text-bg-warning" data-testid="overdue-badge">Overdue</span>'
    if card.has_override:
        badges += ' <span class="badge text-bg-light border">Override</span>'
    return (
        f'<a class="cal-appt status-{status}" href="{href}" data-colour="{colour}" '
        f'data-cal-cell data-testid="appointment-card" data-offset="{placement.offset_minutes}" '
        f'data-minutes="{placement.minutes}" data-lane="{placement.lane}" '
        f'data-lanes="{placement.lanes}" '
        f'aria-label="{starts}{EN_DASH}{ends} {patient}, {treatment}, {status_label}">'
        f'<span class="cal-appt-time">{starts}{EN_DASH}{ends}</span> '
        f'<strong class="cal-appt-patient">{patient}</strong> '
        f'<span class="cal-appt-treatment">{treatment}{session_text}</span> '
        f'<span class="cal-appt-badges">{badges}</span></a>'
    )


def _suitability(card: Card) -> str:
    """The same badge as ``bookings/_suitability.html``, with no screening reasons: the drawn
    grid is cached and shared by every desk, receptionists' included."""
    outcome = card.patient_suitability
    if outcome and outcome != "unknown":
        label = SUITABILITY_LABELS.get(outcome, "Not suitable")
        return (
            f'<span class="badge badge-{escape(outcome)}" data-testid="suitability-badge">'
            f"{label}</span>"
        )
    return (
        '<span class="badge badge-unknown" data-testid="suitability-badge">No assessment yet</span>'
    )
