"""Which patient emails are due, recorded in the ledger by sweeps that read the database.

Celery beat runs :func:`sweep_all` every minute (``bookings.tasks``). Each sweep works out
what should have gone by now, records it under an idempotency key (``clinic.messaging``) and
returns the ids of the new messages for the workers to send. A sweep that runs twice, or
two sweeps racing, find the keys taken and record nothing twice; a sweep after downtime
catches up with whatever fell due meanwhile.

The messages and their rules:

* **Booking notices** (confirmation with a calendar file, move, cancellation). A change waits
  for ``BOOKING_NOTICE_GRACE_SECONDS`` of quiet, then one notice describes the final state
  against what the patient was last told: booked and moved within three minutes sends one
  confirmation at the final time; booked and cancelled within three minutes sends nothing.
* **Reminders** at ``REMINDER_OFFSETS_HOURS`` before the start (48 and 2 by default), counted
  on the clinic's wall clock: the 48-hour reminder of a Monday 10:00 appointment goes on
  Saturday at 10:00 local time across a DST switch. Only the latest reminder due is sent (a
  sweep after downtime does not send a stale 48-hour reminder 90 minutes before). No
  reminder goes whose moment came before the booking was made or moved: the booking notice
  told the patient already. With ``REMINDER_SKIP_LATER_WHEN_CONFIRMED`` the later reminders
  are skipped once the patient confirmed.
* **Aftercare**: the pending aftercare note of a signed session, on the next sweep.
* **Series follow-up**: when the next-session window of an active series opens and nothing is
  booked, and once more when it enters its last week; never while a future session is booked.
* **Maintenance**: once, when a completed series' maintenance interval has passed and nothing
  is booked.

Consent (``consent_problem``): booking notices always go to a patient with an address (they
are the record of what the patient or the clinic arranged, and a cancellation by the clinic
must reach them); reminders and aftercare need ``email_reminders``; follow-up and maintenance
mail also needs no ``followup_opt_out``. A withheld message is recorded as ``skipped`` with
its reason, so staff can see why nothing went.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, F, Func, Max, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from bookings import links
from bookings.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentNotice,
    AppointmentStatus,
    NoticeTold,
)
from bookings.selectors_closures import unavailable_reasons
from clinic import clock, emails, ics, messaging
from clinic.formats import long_date, long_datetime
from clinic.models import MessageKind, MessageStatus, OutboundMessage, Patient
from treatments.choices import SeriesStatus
from treatments.models import AftercareNote, AftercareStatus, TreatmentSeries, TreatmentType
from treatments.rules import (
    CLOSING_NOTICE_DAYS,
    SpacingPolicy,
    maintenance_due_on,
    series_window,
)
from treatments.selectors_series import aftercare_notes_to_send
from treatments.services.aftercare import (
    aftercare_claim,
    aftercare_mark_not_sent,
    aftercare_mark_sent,
    aftercare_release,
)

logger = logging.getLogger(__name__)

# Appointments a reminder or notice can be about (checked in / done / no-show need none).
REMINDABLE_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
# Wall-clock offsets differ from elapsed time by at most the DST shift; look this far beyond.
DST_MARGIN = dt.timedelta(hours=3)
SWEEP_BATCH = 500

NOTICE_KINDS = (
    MessageKind.BOOKING_CONFIRMATION,
    MessageKind.BOOKING_RESCHEDULED,
    MessageKind.BOOKING_CANCELLED,
)
NOTICE_KEY_PREFIX: dict[str, str] = {
    MessageKind.BOOKING_CONFIRMATION: "confirmation",
    MessageKind.BOOKING_RESCHEDULED: "reschedule",
    MessageKind.BOOKING_CANCELLED: "cancellation",
}


# -- words ----------------------------------------------------------------------------------


def local_when(moment: dt.datetime) -> str:
    """``"Monday 30 March 2026 at 10:00"`` in the clinic's zone."""
    return long_datetime(moment)


def lead_time_words(*, starts_at: dt.datetime, now: dt.datetime) -> str:
    """How far ahead an appointment is, by clinic calendar days: today, tomorrow, in 3 days."""
    days = (clock.local_day(starts_at) - clock.today(now)).days
    if days <= 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days} days"


def appointment_details(appointment: Appointment) -> emails.AppointmentDetails:
    return emails.AppointmentDetails(
        when=local_when(appointment.starts_at),
        treatment=appointment.treatment_type.name,
        practitioner=appointment.practitioner.display_name,
    )


def can_still_cancel(appointment: Appointment, *, now: dt.datetime) -> bool:
    notice = dt.timedelta(hours=settings.SELF_SERVICE_CANCEL_NOTICE_HOURS)
    return now < appointment.starts_at - notice


def appointment_links(appointment: Appointment, *, now: dt.datetime) -> emails.PatientLinks:
    """Confirm while only booked; cancel and move while the notice period allows."""

    def link(purpose: links.Purpose) -> str:
        return links.appointment_link(
            purpose=purpose, appointment_id=appointment.pk, starts_at=appointment.starts_at
        )

    changeable = can_still_cancel(appointment, now=now)
    return emails.PatientLinks(
        confirm=link(links.Purpose.CONFIRM)
        if appointment.status == AppointmentStatus.BOOKED
        else "",
        cancel=link(links.Purpose.CANCEL) if changeable else "",
        reschedule=link(links.Purpose.RESCHEDULE) if changeable else "",
    )


def _calendar_domain() -> str:
    # Types: CLINIC_EMAIL has a domain or the base URL a host.
    return settings.CLINIC_EMAIL.rpartition("@")[2] or urlsplit(settings.CLINIC_BASE_URL).hostname  # type: ignore[return-value]


def appointment_calendar(
    appointment: Appointment, *, sequence: int, now: dt.datetime, cancelled: bool = False
) -> str:
    """The .ics for an appointment: one UID for its whole life, SEQUENCE grows per change."""
    return ics.events_calendar(
        events=[calendar_event(appointment, sequence=sequence)],
        organizer_name=settings.CLINIC_NAME,
        organizer_email=settings.CLINIC_EMAIL,
        stamp=now,
        cancelled=cancelled,
    )


def calendar_event(appointment: Appointment, *, sequence: int) -> ics.CalendarEvent:
    return ics.CalendarEvent(
        uid=f"appointment-{appointment.pk}@{_calendar_domain()}",
        sequence=sequence,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        summary=f"{appointment.treatment_type.name} at {settings.CLINIC_NAME}",
        location=settings.CLINIC_ADDRESS,
        description=(
            f"{appointment.treatment_type.name} with {appointment.practitioner.display_name}. "
            f"To change or cancel, call {settings.CLINIC_PHONE}."
        ),
    )


# -- consent and recording ------------------------------------------------------------------

NEEDS_REMINDER_CONSENT = frozenset(
    {
        MessageKind.APPOINTMENT_REMINDER,
        MessageKind.AFTERCARE,
        MessageKind.SERIES_FOLLOWUP,
        MessageKind.MAINTENANCE_REMINDER,
    }
)
NEEDS_FOLLOWUP_CONSENT = frozenset({MessageKind.SERIES_FOLLOWUP, MessageKind.MAINTENANCE_REMINDER})


def consent_problem(patient: Patient, kind: str) -> str:
    """Why this patient must not get this kind of email, or ``""`` when it may go."""
    if getattr(patient, "erased_at", None) is not None:
        return "The patient's record was erased."
    if not patient.email:
        return "No email address on file."
    if kind in NOTICE_KINDS:
        return ""
    if not patient.is_active:
        return "The patient is archived."
    if kind in NEEDS_REMINDER_CONSENT and not patient.email_reminders:
        return "The patient has not consented to email reminders."
    if kind in NEEDS_FOLLOWUP_CONSENT and patient.followup_opt_out:
        return "The patient opted out of follow-up emails."
    return ""


def _record(
    *,
    kind: str,
    key: str,
    patient: Patient,
    about: object,
    now: dt.datetime,
    render: Callable[[], emails.RenderedEmail],
    skip_reason: str = "",
) -> OutboundMessage:
    """Record one message (rendered only when it is to be sent); skipped if withheld."""
    reason = consent_problem(patient, kind) or skip_reason
    message, _ = messaging.message_record(
        kind=kind,
        idempotency_key=key,
        patient=patient,
        recipient=patient.email,
        about=about,  # type: ignore[arg-type]
        rendered=None if reason else render(),
        due_at=now,
        skip_reason=reason,
    )
    return message


def _taken_keys(keys: Iterable[str]) -> set[str]:
    return set(
        OutboundMessage.objects.filter(idempotency_key__in=list(keys)).values_list(
            "idempotency_key", flat=True
        )
    )


def _pending_ids(messages: Iterable[OutboundMessage]) -> list[int]:
    return [message.pk for message in messages if message.status == MessageStatus.PENDING]


# -- booking notices ------------------------------------------------------------------------


def booking_change_record(*, appointment_id: int, event: str, now: dt.datetime) -> None:
    """Note a booking, move or cancellation for the notice sweep, and retire stale reminders.

    Called inside the booking's own transaction, so the change and its notice commit together.
    Bumping ``version`` with one UPDATE keeps concurrent changes from losing a bump; the notice
    waits for the grace period of quiet.
    """
    appointment = (
        Appointment.objects.filter(pk=appointment_id).only("pk", "status", "starts_at").first()
    )
    if appointment is None:
        return
    if event in ("booked", "rescheduled", "cancelled") or (
        appointment.status == AppointmentStatus.CANCELLED
    ):
        AppointmentNotice.objects.get_or_create(
            appointment_id=appointment_id, defaults={"changed_at": now}
        )
        AppointmentNotice.objects.filter(pk=appointment_id).update(
            version=F("version") + 1, changed_at=now
        )
    _retire_stale_reminders(appointment)


def _retire_stale_reminders(appointment: Appointment) -> None:
    if appointment.status in REMINDABLE_STATUSES:
        current = f":appointment:{appointment.pk}:{_iso(appointment.starts_at)}"
        keep = [f"reminder:{hours}h{current}" for hours in settings.REMINDER_OFFSETS_HOURS]
        reason = "The appointment moved; the reminder for the old time was not sent."
    else:
        keep = []
        reason = (
            f"The appointment is {appointment.get_status_display().lower()}; "
            "the reminder was not sent."
        )
    messaging.messages_skip_pending(
        about=appointment,
        kinds=[MessageKind.APPOINTMENT_REMINDER],
        reason=reason,
        keep_keys=keep,
    )


def notice_to_send(
    *,
    told: str,
    told_starts_at: dt.datetime | None,
    told_practitioner_id: int | None,
    status: str,
    starts_at: dt.datetime,
    practitioner_id: int,
    now: dt.datetime,
) -> str | None:
    """The one notice that brings the patient from what they were told to the final state."""
    if starts_at <= now:
        return None
    if status == AppointmentStatus.CANCELLED:
        return MessageKind.BOOKING_CANCELLED if told == NoticeTold.BOOKED else None
    if status not in REMINDABLE_STATUSES:
        return None
    if told != NoticeTold.BOOKED:
        return MessageKind.BOOKING_CONFIRMATION
    if told_starts_at != starts_at or told_practitioner_id != practitioner_id:
        return MessageKind.BOOKING_RESCHEDULED
    return None


def notice_expected(appointment: Appointment, *, now: dt.datetime) -> bool:
    """Whether the notice sweep will email the patient about this appointment's latest change.

    What a patient page promises after the patient's own move or cancellation ("we will email
    you ...") is decided here, by the same rules the sweep records with, so it is never said
    when the ledger will hold no such message (no address, never told of the booking ...).
    """
    notice = AppointmentNotice.objects.filter(pk=appointment.pk).first()
    kind = notice_to_send(
        told=notice.told if notice else NoticeTold.NOTHING,
        told_starts_at=notice.told_starts_at if notice else None,
        told_practitioner_id=notice.told_practitioner_id if notice else None,
        status=appointment.status,
        starts_at=appointment.starts_at,
        practitioner_id=appointment.practitioner_id,
        now=now,
    )
    return kind is not None and not consent_problem(appointment.patient, kind)


def series_booking_record(
    *, appointments: Sequence[Appointment], now: dt.datetime
) -> OutboundMessage | None:
    """One confirmation for sessions of a series booked together: every session listed, one
    .ics with a VEVENT each. Called inside the booking's transaction.

    Every patient email goes once: each appointment's notice is marked as told (the notice
    sweep then finds nothing to say about it until it changes), and each appointment gets its
    own confirmation recorded as skipped, pointing at this email, so its message list says
    where the confirmation went. When this email is withheld (no address ...) the notices are
    left alone and the sweep records the per-appointment notices as before.
    """
    ordered = sorted(appointments, key=lambda appointment: appointment.starts_at)
    if not ordered:
        return None
    first = ordered[0]
    patient = first.patient
    kind = MessageKind.BOOKING_CONFIRMATION
    ids = "-".join(str(appointment.pk) for appointment in ordered)
    message = _record(
        kind=kind,
        key=f"{NOTICE_KEY_PREFIX[kind]}:series:{first.series_id}:appointments:{ids}",
        patient=patient,
        about=first.series,
        now=now,
        render=lambda: _render_series_booking(ordered, now=now),
    )
    if message.status == MessageStatus.SKIPPED:
        return message
    for appointment in ordered:
        AppointmentNotice.objects.get_or_create(
            appointment_id=appointment.pk, defaults={"changed_at": now}
        )
        AppointmentNotice.objects.filter(pk=appointment.pk).update(
            told=NoticeTold.BOOKED,
            told_starts_at=appointment.starts_at,
            told_practitioner_id=appointment.practitioner_id,
            told_at=now,
            settled_version=F("version"),
        )
        messaging.message_record(
            kind=kind,
            idempotency_key=f"{NOTICE_KEY_PREFIX[kind]}:appointment:{appointment.pk}:"
            f"in-message:{message.pk}",
            patient=patient,
            recipient=patient.email,
            about=appointment,
            rendered=None,
            due_at=now,
            skip_reason=(
                f"Confirmed in one email with the other sessions of the series "
                f"(message {message.pk})."
            ),
        )
    return message


def _render_series_booking(
    ordered: Sequence[Appointment], *, now: dt.datetime
) -> emails.RenderedEmail:
    first = ordered[0]
    return emails.series_booking_confirmation(
        given_name=first.patient.given_name,
        treatment=first.treatment_type.name,
        sessions=tuple(
            emails.BookedSession(
                appointment=appointment_details(appointment),
                links=appointment_links(appointment, now=now),
            )
            for appointment in ordered
        ),
        calendar=ics.events_calendar(
            events=[calendar_event(appointment, sequence=0) for appointment in ordered],
            organizer_name=settings.CLINIC_NAME,
            organizer_email=settings.CLINIC_EMAIL,
            stamp=now,
        ),
    )


def sweep_booking_notices(*, now: dt.datetime) -> list[int]:
    settled_before = now - dt.timedelta(seconds=settings.BOOKING_NOTICE_GRACE_SECONDS)
    appointment_ids = list(
        AppointmentNotice.objects.filter(
            version__gt=F("settled_version"), changed_at__lte=settled_before
        )
        .order_by("changed_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    message_ids = []
    for appointment_id in appointment_ids:
        message_id = _settle_notice(appointment_id, now=now, settled_before=settled_before)
        if message_id is not None:
            message_ids.append(message_id)
    return message_ids


def _settle_notice(
    appointment_id: int, *, now: dt.datetime, settled_before: dt.datetime
) -> int | None:
    with transaction.atomic():
        # The row lock makes a racing sweep wait, then see the notice settled.
        notice = (
            AppointmentNotice.objects.select_for_update(of=("self",))
            .select_related(
                "appointment__patient", "appointment__practitioner", "appointment__treatment_type"
            )
            .get(pk=appointment_id)
        )
        if notice.version <= notice.settled_version or notice.changed_at > settled_before:
            return None
        appointment = notice.appointment
        _supersede_unsent_notices(notice)
        kind = notice_to_send(
            told=notice.told,
            told_starts_at=notice.told_starts_at,
            told_practitioner_id=notice.told_practitioner_id,
            status=appointment.status,
            starts_at=appointment.starts_at,
            practitioner_id=appointment.practitioner_id,
            now=now,
        )
        message = None
        if kind is not None:
            message = _record(
                kind=kind,
                key=f"{NOTICE_KEY_PREFIX[kind]}:appointment:{appointment.pk}:{notice.version}",
                patient=appointment.patient,
                about=appointment,
                now=now,
                render=lambda: _render_notice(kind, appointment, notice, now=now),
            )
            if kind == MessageKind.BOOKING_CANCELLED:
                notice.told = NoticeTold.CANCELLED
            else:
                notice.told = NoticeTold.BOOKED
            notice.told_starts_at = appointment.starts_at
            notice.told_practitioner_id = appointment.practitioner_id
            notice.told_at = now
        notice.settled_version = notice.version
        notice.save(
            update_fields=[
                "settled_version",
                "told",
                "told_starts_at",
                "told_practitioner",
                "told_at",
            ]
        )
    if message is not None and message.status == MessageStatus.PENDING:
        return message.pk
    return None


def _supersede_unsent_notices(notice: AppointmentNotice) -> None:
    """A notice still waiting for a retry is out of date once the booking changed again.

    It is skipped; if it was the confirmation, the patient was never told about the booking,
    so the next notice is a confirmation of the final state (or nothing, if it is cancelled).
    """
    unsent = messaging.messages_about(notice.appointment).filter(
        kind__in=NOTICE_KINDS, status=MessageStatus.PENDING
    )
    kinds = set(unsent.values_list("kind", flat=True))
    if not kinds:
        return
    messaging.messages_skip_pending(
        about=notice.appointment,
        kinds=NOTICE_KINDS,
        reason="The booking changed again before this notice could be sent.",
    )
    if MessageKind.BOOKING_CONFIRMATION in kinds:
        notice.told = NoticeTold.NOTHING
        notice.told_starts_at = None
        notice.told_practitioner_id = None


def _render_notice(
    kind: str, appointment: Appointment, notice: AppointmentNotice, *, now: dt.datetime
) -> emails.RenderedEmail:
    given_name = appointment.patient.given_name
    details = appointment_details(appointment)
    if kind == MessageKind.BOOKING_CANCELLED:
        return emails.booking_cancelled(
            given_name=given_name,
            appointment=emails.AppointmentDetails(
                when=local_when(notice.told_starts_at or appointment.starts_at),
                treatment=details.treatment,
                practitioner=details.practitioner,
            ),
            calendar=appointment_calendar(
                appointment, sequence=notice.version, now=now, cancelled=True
            ),
        )
    calendar = appointment_calendar(appointment, sequence=notice.version, now=now)
    links = appointment_links(appointment, now=now)
    if kind == MessageKind.BOOKING_RESCHEDULED and notice.told_starts_at is not None:
        return emails.booking_rescheduled(
            given_name=given_name,
            appointment=details,
            previous_when=local_when(notice.told_starts_at),
            links=links,
            calendar=calendar,
        )
    return emails.booking_confirmation(
        given_name=given_name, appointment=details, links=links, calendar=calendar
    )


# -- appointment reminders ------------------------------------------------------------------


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def reminder_moment(*, starts_at: dt.datetime, hours: int, tz: ZoneInfo) -> dt.datetime:
    """When the ``hours`` reminder is due: that many hours earlier on the clinic's wall clock.

    A 10:00 appointment on the Monday after a DST switch gets its 48-hour reminder on the
    Saturday at 10:00 local time (47 or 49 elapsed hours), not at 09:00 or 11:00.
    """
    local = starts_at.astimezone(tz).replace(tzinfo=None) - dt.timedelta(hours=hours)
    return local.replace(tzinfo=tz).astimezone(dt.UTC)


@dataclass(frozen=True)
class ReminderDue:
    hours: int
    due_at: dt.datetime
    is_first: bool


def reminder_due(
    *, starts_at: dt.datetime, offsets: Iterable[int], now: dt.datetime, tz: ZoneInfo
) -> ReminderDue | None:
    """The reminder that should have gone by ``now``: the latest one whose moment passed.

    ``None`` before the first reminder's moment and from the start onwards. An earlier
    reminder that was missed (no worker ran) is superseded by a later one, never sent late.
    """
    if starts_at <= now:
        return None
    ordered = sorted(set(offsets), reverse=True)
    due = None
    for hours in ordered:
        moment = reminder_moment(starts_at=starts_at, hours=hours, tz=tz)
        if moment <= now:
            due = ReminderDue(hours=hours, due_at=moment, is_first=hours == ordered[0])
    return due


def reminder_key(appointment: Appointment, hours: int) -> str:
    return reminder_key_for(
        appointment_id=appointment.pk, starts_at=appointment.starts_at, hours=hours
    )


def reminder_key_for(*, appointment_id: int, starts_at: dt.datetime, hours: int) -> str:
    return f"reminder:{hours}h:appointment:{appointment_id}:{_iso(starts_at)}"


def _reminder_skip_reason(appointment: Appointment, due: ReminderDue, unavailable: str = "") -> str:
    if unavailable:
        return unavailable  # a closed day or the practitioner's time off: it cannot happen
    notice = _notice_of(appointment)
    if notice is not None and notice.changed_at >= due.due_at:
        return (
            f"Booked or moved less than {due.hours} hours ahead: the booking notice told the "
            "patient."
        )
    if (
        settings.REMINDER_SKIP_LATER_WHEN_CONFIRMED
        and not due.is_first
        and appointment.status == AppointmentStatus.CONFIRMED
    ):
        return "The patient already confirmed."
    return ""


def _notice_of(appointment: Appointment) -> AppointmentNotice | None:
    try:
        return appointment.notice
    except AppointmentNotice.DoesNotExist:
        return None


def sweep_appointment_reminders(*, now: dt.datetime) -> list[int]:
    offsets = settings.REMINDER_OFFSETS_HOURS
    tz = clock.clinic_tz()
    horizon = now + dt.timedelta(hours=max(offsets)) + DST_MARGIN
    # First only ids and start times: in the usual minute every due key is taken already and
    # no appointment is loaded in full (350 full rows with four joins was 30-80 ms a minute).
    upcoming = (
        Appointment.objects.filter(
            status__in=REMINDABLE_STATUSES, starts_at__gt=now, starts_at__lte=horizon
        )
        .order_by("starts_at")
        .values_list("pk", "starts_at")
    )
    due_now = []
    for appointment_id, starts_at in upcoming:
        due = reminder_due(starts_at=starts_at, offsets=offsets, now=now, tz=tz)
        if due is not None:
            key = reminder_key_for(
                appointment_id=appointment_id, starts_at=starts_at, hours=due.hours
            )
            due_now.append((appointment_id, starts_at, due, key))
    taken = _taken_keys(key for _, _, _, key in due_now)
    waiting = [entry for entry in due_now if entry[3] not in taken]
    if not waiting:
        return []
    appointments = Appointment.objects.select_related(
        "patient", "practitioner", "treatment_type", "notice"
    ).in_bulk([appointment_id for appointment_id, _, _, _ in waiting])
    unavailable = unavailable_reasons(list(appointments.values()))
    recorded = []
    for appointment_id, starts_at, due, key in waiting:
        appointment = appointments.get(appointment_id)
        if (
            appointment is None
            or appointment.starts_at != starts_at
            or appointment.status not in REMINDABLE_STATUSES
        ):
            continue  # moved or cancelled since the first read: the next sweep decides
        recorded.append(
            _record(
                kind=MessageKind.APPOINTMENT_REMINDER,
                key=key,
                patient=appointment.patient,
                about=appointment,
                now=now,
                skip_reason=_reminder_skip_reason(
                    appointment, due, unavailable.get(appointment.pk, "")
                ),
                # Types: default arguments bind the loop's values; mypy cannot infer such lambdas.
                render=lambda appointment=appointment: emails.appointment_reminder(  # type: ignore[misc]
                    given_name=appointment.patient.given_name,
                    appointment=appointment_details(appointment),
                    links=appointment_links(appointment, now=now),
                    confirmed=appointment.status == AppointmentStatus.CONFIRMED,
                    lead_time=lead_time_words(starts_at=appointment.starts_at, now=now),
                ),
            )
        )
    return _pending_ids(recorded)


# -- aftercare ------------------------------------------------------------------------------


def aftercare_key(session_id: int) -> str:
    return f"aftercare:session:{session_id}"


def sweep_aftercare(*, now: dt.datetime) -> list[int]:
    """Email the aftercare note of every signed session waiting for it.

    Each note is claimed (``pending -> sending``, one conditional UPDATE in
    ``treatments.services.aftercare``) and its message recorded in the same transaction, so a
    note is never ``sending`` without its message. Notes already ``sending`` follow their
    message: sent -> ``sent``, withheld (no consent) -> ``not_sent``; a failed message leaves
    the note ``sending`` until staff resend it from the outbox.
    """
    _aftercare_follow_ledger()
    message_ids = []
    for note_id in aftercare_notes_to_send(limit=SWEEP_BATCH):
        with transaction.atomic():
            note = aftercare_claim(note_id=note_id, now=now)
            if note is None:
                continue
            session = note.session
            if session.signed_at is None:  # only signing creates notes; never mail a draft
                aftercare_release(note=note)
                continue
            series = session.series
            message = _record(
                kind=MessageKind.AFTERCARE,
                key=aftercare_key(session.pk),
                patient=series.patient,
                about=session,
                now=now,
                # Types: default arguments bind the loop's values; mypy cannot infer such lambdas.
                render=lambda note=note, session=session, series=series: emails.aftercare(  # type: ignore[misc]
                    given_name=series.patient.given_name,
                    treatment=series.treatment_type.name,
                    session_day=long_date(session.performed_at),
                    advice=note.body,
                ),
            )
            if message.status == MessageStatus.SKIPPED:
                aftercare_mark_not_sent(note=note)
            elif message.status == MessageStatus.SENT:
                aftercare_mark_sent(note=note, now=message.sent_at or now)
            elif message.status == MessageStatus.PENDING:
                message_ids.append(message.pk)
    return message_ids


def _aftercare_follow_ledger() -> None:
    sending = list(
        AftercareNote.objects.filter(status=AftercareStatus.SENDING)
        .select_related("session")
        .order_by("pk")[:SWEEP_BATCH]
    )
    if not sending:
        return
    messages = {
        message.idempotency_key: message
        for message in OutboundMessage.objects.filter(
            idempotency_key__in=[aftercare_key(note.session_id) for note in sending]
        ).only("idempotency_key", "status", "sent_at")
    }
    for note in sending:
        message = messages.get(aftercare_key(note.session_id))
        if message is None:
            continue
        if message.status == MessageStatus.SENT:
            aftercare_mark_sent(note=note, now=message.sent_at or timezone.now())
        elif message.status in (MessageStatus.SKIPPED, MessageStatus.EXPIRED):
            # Withheld, or no longer worth sending after an outage: it will never go.
            aftercare_mark_not_sent(note=note)


# -- series follow-up and maintenance -------------------------------------------------------


def local_send_moment(day: dt.date) -> dt.datetime:
    """Follow-up mail for a day goes from ``FOLLOWUP_SEND_HOUR`` local time that day."""
    return dt.datetime.combine(day, dt.time(settings.FOLLOWUP_SEND_HOUR), tzinfo=clock.clinic_tz())


@dataclass(frozen=True)
class FollowupDue:
    stage: str  # "open" or "closing"
    window_opens: dt.date
    window_closes: dt.date


def followup_due(
    *, last_session_on: dt.date, policy: SpacingPolicy, now: dt.datetime
) -> FollowupDue | None:
    """The follow-up that should have gone by ``now`` for a series with nothing booked.

    ``open`` from the window's first day, ``closing`` from its last week (whichever came
    later wins, so a catch-up sends one email, not two). Nothing once the window closed.
    """
    window = series_window(last_session_on=last_session_on, policy=policy)
    today = clock.today(now)
    if today > window.latest:
        return None
    closing_from = max(window.earliest, window.latest - dt.timedelta(days=CLOSING_NOTICE_DAYS))
    if now >= local_send_moment(closing_from):
        return FollowupDue("closing", window.earliest, window.latest)
    if now >= local_send_moment(window.earliest):
        return FollowupDue("open", window.earliest, window.latest)
    return None


def _future_booking(now: dt.datetime) -> Q:
    """A future active appointment for the series, or of its treatment for its patient.

    Two EXISTS, not one with an OR inside: each is answered from an index ((series, status)
    and (patient, starts_at)), where the OR made PostgreSQL read appointments per series.
    """
    upcoming = Appointment.objects.filter(status__in=ACTIVE_STATUSES, starts_at__gt=now)
    return Exists(upcoming.filter(series=OuterRef("pk"))) | Exists(
        upcoming.filter(patient=OuterRef("patient"), treatment_type=OuterRef("treatment_type"))
    )


def _longest_intervals() -> dict[str, int]:
    """The longest spacing and maintenance intervals of any treatment (one query)."""
    longest = TreatmentType.objects.aggregate(
        spacing=Max("max_interval_days"), maintenance=Max("maintenance_interval_days")
    )
    return {name: days or 0 for name, days in longest.items()}


def _series_candidates(
    *, statuses: Iterable[str], now: dt.datetime, last_session_from: dt.date
) -> QuerySet:
    """Series whose last session is recent enough to be due, with nothing booked.

    ``last_session_from`` keeps the cost flat as history grows: a series finished years ago
    is never read again (the ``(status, last_session_on)`` index gives the recent ones).
    """
    return (
        TreatmentSeries.objects.filter(
            status__in=list(statuses), last_session_on__gte=last_session_from
        )
        .filter(~_future_booking(now))
        .select_related("patient", "treatment_type")
        .order_by("last_session_on", "pk")
    )


def _candidate_spacing(candidates: QuerySet) -> list[tuple[int, dt.date, SpacingPolicy]]:
    """A series sweep's first read: ids, last sessions and spacing rules only.

    In the usual minute every key that is due is taken already, so no series is loaded in
    full (a thousand series with patient and treatment rows was most of the sweep's time).
    """
    return [
        (
            pk,
            last_session_on,
            SpacingPolicy(min_days=min_days, max_days=max_days, maintenance_days=maintenance_days),
        )
        for pk, last_session_on, min_days, max_days, maintenance_days in candidates.values_list(
            "pk",
            "last_session_on",
            "treatment_type__min_interval_days",
            "treatment_type__max_interval_days",
            "treatment_type__maintenance_interval_days",
        )
    ]


def _series_to_write_to(series_ids: list[int]) -> dict[int, TreatmentSeries]:
    """The series some message is still to be recorded for, in full (no query if none)."""
    if not series_ids:
        return {}
    return TreatmentSeries.objects.select_related("patient", "treatment_type").in_bulk(series_ids)


def sweep_series_followups(*, now: dt.datetime) -> list[int]:
    # Nothing goes once a window has closed: older last sessions cannot be due (a day spare).
    today = clock.today(now)
    oldest = today - dt.timedelta(days=_longest_intervals()["spacing"] + 1)
    candidates = _series_candidates(
        statuses=[SeriesStatus.ACTIVE], now=now, last_session_from=oldest
    ).filter(completed_sessions__lt=F("planned_sessions"))
    due_now = []
    for pk, last_session_on, policy in _candidate_spacing(candidates):
        due = followup_due(last_session_on=last_session_on, policy=policy, now=now)
        if due is not None:
            key = f"followup:{due.stage}:series:{pk}:{last_session_on.isoformat()}"
            due_now.append((pk, due, key))
    taken = _taken_keys(key for _, _, key in due_now)
    waiting = [(pk, due, key) for pk, due, key in due_now if key not in taken]
    loaded = _series_to_write_to([pk for pk, _, _ in waiting])
    recorded = [
        _record(
            kind=MessageKind.SERIES_FOLLOWUP,
            key=key,
            patient=series.patient,
            about=series,
            now=now,
            # Types: default arguments bind the loop's values; mypy cannot infer such lambdas.
            render=lambda series=series, due=due: emails.series_followup(  # type: ignore[misc]
                given_name=series.patient.given_name,
                treatment=series.treatment_type.name,
                window_opens=long_date(due.window_opens),
                window_closes=long_date(due.window_closes),
                closing=due.stage == "closing",
                pick_url=links.pick_link(
                    series_id=series.pk, last_session_on=series.last_session_on
                ),
                unsubscribe_url=links.unsubscribe_link(patient_id=series.patient_id),
            ),
        )
        for series, due, key in ((loaded.get(pk), due, key) for pk, due, key in waiting)
        if series is not None
    ]
    return _pending_ids(recorded)


def maintenance_key(*, series_id: int, last_session_on: dt.date) -> str:
    return f"maintenance:series:{series_id}:{last_session_on.isoformat()}"


class _IsoDate(Func):
    """A date as ``YYYY-MM-DD`` text, as ``date.isoformat()`` writes it in a ledger key.

    SQLite keeps dates as that text already; PostgreSQL formats it explicitly, so the result
    does not depend on the server's ``DateStyle``.
    """

    template = "CAST(%(expressions)s AS text)"
    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="to_char(%(expressions)s, 'YYYY-MM-DD')", **extra
        )


def _maintenance_recorded() -> Exists:
    """The series' maintenance message for its current last session is in the ledger.

    :func:`maintenance_key` built in SQL, so the sweep reads only series still to be written
    to: one probe of the ledger's unique key per candidate instead of loading every series
    mailed during the last interval each minute (more of them the longer a clinic has run).
    """
    key = Concat(
        Value("maintenance:series:"),
        Cast(OuterRef("pk"), CharField()),
        Value(":"),
        _IsoDate(OuterRef("last_session_on")),
        output_field=CharField(),
    )
    return Exists(OutboundMessage.objects.filter(idempotency_key=key))


def _maintenance_windows(today: dt.date) -> Q:
    """Series whose maintenance email could be due today, per treatment type (one query).

    Due ``maintenance_interval_days`` after the last session and sent within one more
    interval: the last session lies between two intervals and one interval ago. Each type's
    own interval bounds its range, rather than the longest interval for all of them.
    """
    windows = Q(pk__in=[])  # no treatment types: nothing can be due
    intervals = TreatmentType.objects.order_by().values_list("pk", "maintenance_interval_days")
    for type_id, days in intervals:
        windows |= Q(
            treatment_type_id=type_id,
            last_session_on__gte=today - dt.timedelta(days=2 * days),
            last_session_on__lte=today - dt.timedelta(days=days),
        )
    return windows


def sweep_maintenance(*, now: dt.datetime) -> list[int]:
    """One maintenance email per completed series and last session, within one interval of
    its due day (a series finished years ago is not written to when this is switched on)."""
    today = clock.today(now)
    # First the series in their window whose email is not in the ledger yet: in the usual
    # minute only those with a session booked ahead, however many were mailed before. Only
    # they are checked for a future booking (run over every series in the window, that check
    # read all upcoming appointments every minute).
    unrecorded = list(
        TreatmentSeries.objects.filter(
            status__in=[SeriesStatus.COMPLETED, SeriesStatus.MAINTENANCE]
        )
        .filter(_maintenance_windows(today), ~_maintenance_recorded())
        .order_by()
        .values_list("pk", flat=True)
    )
    candidates = (
        TreatmentSeries.objects.filter(pk__in=unrecorded)
        .filter(~_future_booking(now))
        .order_by("last_session_on", "pk")
    )
    due_now = []
    for pk, last_session_on, policy in _candidate_spacing(candidates):
        due_on = maintenance_due_on(last_session_on=last_session_on, policy=policy)
        if now < local_send_moment(due_on):
            continue
        if (today - due_on).days > policy.maintenance_days:
            continue
        key = maintenance_key(series_id=pk, last_session_on=last_session_on)
        due_now.append((pk, key))
    taken = _taken_keys(key for _, key in due_now)
    waiting = [(pk, key) for pk, key in due_now if key not in taken]
    loaded = _series_to_write_to([pk for pk, _ in waiting])
    recorded = [
        _record(
            kind=MessageKind.MAINTENANCE_REMINDER,
            key=key,
            patient=series.patient,
            about=series,
            now=now,
            # Types: default arguments bind the loop's values; mypy cannot infer such lambdas.
            render=lambda series=series: emails.maintenance_reminder(  # type: ignore[misc]
                given_name=series.patient.given_name,
                treatment=series.treatment_type.name,
                last_session_day=long_date(series.last_session_on),
                unsubscribe_url=links.unsubscribe_link(patient_id=series.patient_id),
            ),
        )
        for series, key in ((loaded.get(pk), key) for pk, key in waiting)
        if series is not None
    ]
    return _pending_ids(recorded)


# -- all sweeps -----------------------------------------------------------------------------

SWEEPS: tuple[tuple[str, Callable[..., list[int]]], ...] = (
    ("booking notices", sweep_booking_notices),
    ("appointment reminders", sweep_appointment_reminders),
    ("aftercare", sweep_aftercare),
    ("series follow-ups", sweep_series_followups),
    ("maintenance", sweep_maintenance),
)


def sweep_all(*, now: dt.datetime | None = None) -> list[int]:
    """Run every sweep; one failing (a bad row, a template error) does not stop the others.

    Returns the ids of the messages recorded for sending.
    """
    now = now or timezone.now()
    message_ids: list[int] = []
    for name, sweep in SWEEPS:
        try:
            message_ids.extend(sweep(now=now))
        except Exception:  # logged with its traceback; the next minute's sweep tries again
            logger.exception("The %s sweep failed", name)
    return message_ids


# -- reads for pages ------------------------------------------------------------------------


def messages_for_appointment(appointment: Appointment) -> QuerySet[OutboundMessage]:
    """Every email about one appointment (notices and reminders), newest first: one query."""
    return messaging.messages_about(appointment).defer(
        "body_text", "body_html", "attachments", "headers"
    )
