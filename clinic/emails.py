"""Every email the clinic sends. The one module that imports ``django.core.mail``.

One function per message kind renders ``templates/emails/<kind>.subject.txt``, ``.txt`` and
``.html`` with the clinic's name and contact. The functions take plain, already formatted
values (the caller turns moments into clinic-local text), so nothing clinical can reach an
email unless a caller passes it on purpose: appointment emails carry the treatment's name and
nothing else about the patient's skin.

:func:`deliver` sends an email exactly as the ledger recorded it (``clinic.messaging``).
"""

from __future__ import annotations

import hashlib
import re
import smtplib
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

ICS_MIMETYPE = "text/calendar"
MAX_ERROR_LENGTH = 1000


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: str
    mimetype: str

    def as_dict(self) -> dict[str, str]:
        return {"filename": self.filename, "content": self.content, "mimetype": self.mimetype}


@dataclass(frozen=True)
class RenderedEmail:
    """An email ready to be recorded in the ledger and sent as is."""

    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class AppointmentDetails:
    """What an email may say about an appointment (``when`` is clinic-local, written out)."""

    when: str
    treatment: str
    practitioner: str


@dataclass(frozen=True)
class PatientLinks:
    """Self-service links; an empty string leaves the link out (e.g. cancel after the notice)."""

    confirm: str = ""
    cancel: str = ""
    reschedule: str = ""


def clinic_context() -> dict[str, str]:
    return {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "clinic_email": settings.CLINIC_EMAIL,
        "clinic_address": settings.CLINIC_ADDRESS,
        "clinic_url": settings.CLINIC_BASE_URL,
    }


def _render(
    kind: str,
    context: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> RenderedEmail:
    full_context = {**clinic_context(), **context}
    subject = render_to_string(f"emails/{kind}.subject.txt", full_context)
    return RenderedEmail(
        subject=" ".join(subject.split())[:200],
        # Template tags leave blank lines behind; one empty line between paragraphs is enough.
        text=re.sub(r"\n{3,}", "\n\n", render_to_string(f"emails/{kind}.txt", full_context).strip())
        + "\n",
        html=render_to_string(f"emails/{kind}.html", full_context),
        headers=dict(headers or {}),
        attachments=attachments,
    )


def _calendar_attachment(calendar: str, *, cancelled: bool = False) -> Attachment:
    method = "CANCEL" if cancelled else "PUBLISH"
    return Attachment(
        filename="appointment.ics",
        content=calendar,
        mimetype=f"{ICS_MIMETYPE}; method={method}; charset=UTF-8",
    )


def _unsubscribe_headers(unsubscribe_url: str) -> dict[str, str]:
    """RFC 2369 / RFC 8058: mail programs offer a one-click "unsubscribe" button."""
    mailto = f"mailto:{settings.CLINIC_EMAIL}?subject=unsubscribe"
    return {
        "List-Unsubscribe": f"<{unsubscribe_url}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


# -- one function per message kind ----------------------------------------------------------


def booking_confirmation(
    *, given_name: str, appointment: AppointmentDetails, links: PatientLinks, calendar: str
) -> RenderedEmail:
    return _render(
        "booking_confirmation",
        {"given_name": given_name, "appointment": appointment, "links": links},
        attachments=(_calendar_attachment(calendar),),
    )


@dataclass(frozen=True)
class BookedSession:
    """One session in a series booking email: the appointment and its own links."""

    appointment: AppointmentDetails
    links: PatientLinks


def series_booking_confirmation(
    *, given_name: str, treatment: str, sessions: tuple[BookedSession, ...], calendar: str
) -> RenderedEmail:
    """Every session of a series booked at once, in one email with one calendar file."""
    return _render(
        "series_booking_confirmation",
        {"given_name": given_name, "treatment": treatment, "sessions": sessions},
        attachments=(_calendar_attachment(calendar),),
    )


def booking_rescheduled(
    *,
    given_name: str,
    appointment: AppointmentDetails,
    previous_when: str,
    links: PatientLinks,
    calendar: str,
) -> RenderedEmail:
    return _render(
        "booking_rescheduled",
        {
            "given_name": given_name,
            "appointment": appointment,
            "previous_when": previous_when,
            "links": links,
        },
        attachments=(_calendar_attachment(calendar),),
    )


def booking_cancelled(
    *, given_name: str, appointment: AppointmentDetails, calendar: str
) -> RenderedEmail:
    return _render(
        "booking_cancelled",
        {"given_name": given_name, "appointment": appointment},
        attachments=(_calendar_attachment(calendar, cancelled=True),),
    )


def cancelled_by_clinic(
    *, given_name: str, appointment: AppointmentDetails, reason: str, rebook_url: str, calendar: str
) -> RenderedEmail:
    """The clinic cancelled (closed that day, practitioner off): sorry, and a link to pick a
    new time for the same treatment. It is the patient's cancellation notice too."""
    return _render(
        "cancelled_by_clinic",
        {
            "given_name": given_name,
            "appointment": appointment,
            "reason": reason,
            "rebook_url": rebook_url,
        },
        attachments=(_calendar_attachment(calendar, cancelled=True),),
    )


def appointment_reminder(
    *,
    given_name: str,
    appointment: AppointmentDetails,
    links: PatientLinks,
    confirmed: bool,
    lead_time: str,
) -> RenderedEmail:
    """``lead_time`` is how far ahead the appointment is, in words ("in 2 days")."""
    return _render(
        "appointment_reminder",
        {
            "given_name": given_name,
            "appointment": appointment,
            "links": links,
            "confirmed": confirmed,
            "lead_time": lead_time,
        },
    )


def aftercare(*, given_name: str, treatment: str, session_day: str, advice: str) -> RenderedEmail:
    """``advice`` is the aftercare note: the treatment's template and the practitioner's words."""
    return _render(
        "aftercare",
        {
            "given_name": given_name,
            "treatment": treatment,
            "session_day": session_day,
            "advice_paragraphs": [part.strip() for part in advice.split("\n\n") if part.strip()],
        },
    )


def series_followup(
    *,
    given_name: str,
    treatment: str,
    window_opens: str,
    window_closes: str,
    closing: bool,
    pick_url: str,
    unsubscribe_url: str,
) -> RenderedEmail:
    return _render(
        "series_followup",
        {
            "given_name": given_name,
            "treatment": treatment,
            "window_opens": window_opens,
            "window_closes": window_closes,
            "closing": closing,
            "pick_url": pick_url,
            "unsubscribe_url": unsubscribe_url,
        },
        headers=_unsubscribe_headers(unsubscribe_url),
    )


def maintenance_reminder(
    *, given_name: str, treatment: str, last_session_day: str, unsubscribe_url: str
) -> RenderedEmail:
    return _render(
        "maintenance_reminder",
        {
            "given_name": given_name,
            "treatment": treatment,
            "last_session_day": last_session_day,
            "unsubscribe_url": unsubscribe_url,
        },
        headers=_unsubscribe_headers(unsubscribe_url),
    )


# -- sending --------------------------------------------------------------------------------


def staff_sign_in_paused(
    *,
    given_name: str,
    username: str,
    ip_address: str,
    failures: int,
    cooloff_minutes: int,
    reset_url: str,
) -> RenderedEmail:
    return _render(
        "staff_sign_in_paused",
        {
            "given_name": given_name,
            "username": username,
            "ip_address": ip_address,
            "failures": failures,
            "cooloff_minutes": cooloff_minutes,
            "reset_url": reset_url,
        },
    )


def send_to_staff(*, to: str, email: RenderedEmail) -> None:
    """Send a notice to a member of staff now; SMTP errors are raised to the caller.

    Staff notices are not patient messages: they are not recorded in the outbound ledger
    (``clinic.messaging``, which belongs to patients and their appointments) and are not
    retried; the caller says when one is sent, so it goes once.
    """
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=email.headers,
        connection=get_connection(fail_silently=False),
    )
    message.attach_alternative(email.html, "text/html")
    message.send(fail_silently=False)


def message_id_for(idempotency_key: str) -> str:
    """A Message-ID that is the same on every attempt, so a mail program can drop a repeat."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "clinic.invalid"
    return f"<{digest}@{domain}>"


def deliver(
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    headers: dict[str, str],
    attachments: list[dict[str, str]],
    idempotency_key: str,
    connection: Any = None,
) -> None:
    """Send one email over the configured backend. SMTP errors are raised to the caller.

    Pass an open ``connection`` (``get_connection()`` then ``open()``) to send several
    emails over one SMTP session; without one, each email opens and closes its own."""
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=[settings.CLINIC_EMAIL],
        headers={**headers, "Message-ID": message_id_for(idempotency_key)},
        connection=connection or get_connection(fail_silently=False),
    )
    if html:
        message.attach_alternative(html, "text/html")
    for attachment in attachments:
        message.attach(attachment["filename"], attachment["content"], attachment["mimetype"])
    message.send(fail_silently=False)


def failure_is_permanent(error: BaseException) -> bool:
    """Only a recipient the server refused for good (5xx) is not worth another try.

    Everything else (connection refused, timeouts, 4xx "try later", even a wrong password)
    is retried with backoff: a configuration mistake fixed within the retry window should
    not leave every message of the day failed.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        return all(500 <= code < 600 for code, _ in error.recipients.values())
    return False


def describe_failure(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        details = "; ".join(
            f"{address}: {code} {_decode(reply)}"
            for address, (code, reply) in error.recipients.items()
        )
        text = f"Recipient refused ({details})"
    elif isinstance(error, smtplib.SMTPResponseException):
        text = f"SMTP {error.smtp_code}: {_decode(error.smtp_error)}"
    else:
        text = f"{type(error).__name__}: {error}"
    return text[:MAX_ERROR_LENGTH]


def _decode(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
