"""Cancel the appointments a closure or a time off left booked, and offer each patient a new time.

The managers' closure and time off pages list the appointments still booked inside them
(``bookings.selectors_closures``); this is the bulk action behind "Cancel these and email each
patient a link to pick a new time".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bookings import links, reminders
from bookings.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentNotice,
    NoticeTold,
    TimeOff,
)
from bookings.selectors_closures import appointments_in_closure, appointments_in_time_off
from bookings.services.appointments import appointment_cancel_locked
from clinic import audit, emails, messaging
from clinic.models import AuditAction, ClinicClosure, MessageKind, MessageStatus
from clinic.tasks import kick_sends

CLOSURE_CANCEL_REASON = "Clinic closed"
TIME_OFF_CANCEL_REASON = "Practitioner not available"


@dataclass
class ClinicCancellation:
    """What the bulk action did: who was emailed a link, and whom the desk must phone."""

    emailed: list[Appointment] = field(default_factory=list)
    to_phone: list[Appointment] = field(default_factory=list)

    @property
    def cancelled(self) -> int:
        return len(self.emailed) + len(self.to_phone)


def cancelled_by_clinic_key(appointment_id: int) -> str:
    """One email per cancelled appointment, whoever clicks and however often."""
    return f"cancelled-by-clinic:appointment:{appointment_id}"


def closure_appointments_cancel(
    *,
    closure: ClinicClosure,
    appointment_ids: Iterable[int],
    cancelled_by: Any,
    now: dt.datetime | None = None,
) -> ClinicCancellation:
    """Cancel the listed appointments still booked on a closed day, emailing each patient once."""
    now = now or timezone.now()
    return _cancel_offering_new_time(
        affected=appointments_in_closure(closure=closure, now=now),
        appointment_ids=appointment_ids,
        reason=f"{CLOSURE_CANCEL_REASON}: {closure.reason}" if closure.reason else "Clinic closed",
        cancelled_by=cancelled_by,
        about=closure,
        now=now,
    )


def time_off_appointments_cancel(
    *,
    entry: TimeOff,
    appointment_ids: Iterable[int],
    cancelled_by: Any,
    now: dt.datetime | None = None,
) -> ClinicCancellation:
    """Cancel the listed appointments still booked inside a practitioner's time off."""
    now = now or timezone.now()
    return _cancel_offering_new_time(
        affected=appointments_in_time_off(entry=entry, now=now),
        appointment_ids=appointment_ids,
        reason=TIME_OFF_CANCEL_REASON,
        cancelled_by=cancelled_by,
        about=entry,
        now=now,
    )


def _cancel_offering_new_time(
    *,
    affected: list[Appointment],
    appointment_ids: Iterable[int],
    reason: str,
    cancelled_by: Any,
    about: ClinicClosure | TimeOff,
    now: dt.datetime,
) -> ClinicCancellation:
    """Invariants: only appointments the manager saw listed *and* still booked inside the
    closure or time off are cancelled (one booked since, or moved out, is left alone); each is
    cancelled through the cancellation service (:func:`appointment_cancel_locked`, as this
    transaction also holds the email) and its patient gets exactly one email (this
    one, under a unique ledger key, in the same transaction as the cancellation) instead of
    the usual cancellation notice. One transaction per appointment, so a failure half-way
    leaves every appointment either booked or cancelled with its email recorded."""
    chosen = set(appointment_ids)
    outcome = ClinicCancellation()
    queued: list[int] = []
    for appointment in affected:
        if appointment.pk not in chosen:
            continue
        with transaction.atomic(durable=True):
            if not Appointment.objects.filter(
                pk=appointment.pk, status__in=ACTIVE_STATUSES
            ).exists():
                continue  # cancelled by someone else meanwhile: they told the patient
            cancelled = appointment_cancel_locked(
                appointment=appointment.pk, reason=reason, cancelled_by=cancelled_by, now=now
            )
            message = _record_email(appointment, reason=reason, now=now)
            emailed = message.status == MessageStatus.PENDING
            if emailed:
                _mark_patient_told(appointment, now=now)
            audit.record(
                action=AuditAction.CHANGE,
                obj=about,
                before={"booked_appointment": appointment.pk},
                after={"booked_appointment": None},
                detail=f"Appointment {appointment.pk} cancelled ({reason}): "
                + ("patient emailed a link to pick a new time" if emailed else "patient to phone"),
            )
        appointment.status = cancelled.status
        if emailed:
            outcome.emailed.append(appointment)
            queued.append(message.pk)
        else:
            outcome.to_phone.append(appointment)
    if queued:
        # Outside any transaction this runs at once; a broker that is down only delays the
        # emails until the dispatch sweep hands the pending rows to the workers.
        transaction.on_commit(lambda: kick_sends(queued), robust=True)
    return outcome


def _record_email(appointment: Appointment, *, reason: str, now: dt.datetime) -> Any:
    """The one email: the cancellation notice's consent rule (it reaches anyone with an
    address), a link for a new time, and the calendar file that removes the old one."""
    patient = appointment.patient
    problem = reminders.consent_problem(patient, MessageKind.BOOKING_CANCELLED)
    rendered = None
    if not problem:
        notice = AppointmentNotice.objects.filter(pk=appointment.pk).first()
        rendered = emails.cancelled_by_clinic(
            given_name=patient.given_name,
            appointment=reminders.appointment_details(appointment),
            reason=reason,
            rebook_url=links.rebook_link(
                appointment_id=appointment.pk, starts_at=appointment.starts_at
            ),
            calendar=reminders.appointment_calendar(
                appointment,
                sequence=(notice.version if notice else 0) + 1,
                now=now,
                cancelled=True,
            ),
        )
    message, _ = messaging.message_record(
        kind=MessageKind.CANCELLED_BY_CLINIC,
        idempotency_key=cancelled_by_clinic_key(appointment.pk),
        patient=patient,
        recipient=patient.email,
        about=appointment,
        rendered=rendered,
        due_at=now,
        skip_reason=problem,
    )
    return message


def _mark_patient_told(appointment: Appointment, *, now: dt.datetime) -> None:
    """This email is the patient's cancellation notice: the notice sweep must not send a
    second one (it has nothing to say about a settled notice, and sends a cancellation only to
    a patient last told "booked"). A withheld email leaves the notice to the sweep, which
    records why nothing went."""
    AppointmentNotice.objects.get_or_create(
        appointment_id=appointment.pk, defaults={"changed_at": now}
    )
    AppointmentNotice.objects.filter(pk=appointment.pk).update(
        told=NoticeTold.CANCELLED, told_at=now, settled_version=F("version")
    )
