"""Booking, moving, cancelling and the status lifecycle of appointments.

The invariant every function here protects: **no two active appointments overlap** for the
same practitioner or room (including the cleanup buffer) or for the same patient. Each write
runs in one transaction that first locks the practitioner(s) and the patient
(``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the ``BEGIN IMMEDIATE`` transaction already
holds the database's single write lock), then checks, then writes. On PostgreSQL the exclusion
constraints are the last line of defence: their ``IntegrityError`` becomes the same
:class:`SlotUnavailable` a check would have raised.

Patient notices are recorded in the change's own transaction through
:func:`bookings.notifications.appointment_changed`; the notice sweep sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings import notifications, selectors, slots
from bookings import rules as booking_rules
from bookings.models import (
    Appointment,
    AppointmentChange,
    AppointmentChangeKind,
    AppointmentStatus,
)
from bookings.rules import (
    BookingError,
    InvalidTransition,
    SeriesFull,
    SlotUnavailable,
    SuitabilityOverrideRequired,
)
from clinic import audit, clock
from clinic.formats import long_date
from clinic.models import AuditAction, Patient, Practitioner, Room
from clinic.roles import Role, has_role, user_roles
from treatments import rules as treatment_rules
from treatments.choices import Suitability
from treatments.models import TreatmentSeries, TreatmentType
from treatments.rules import MAX_DURATION_MINUTES, MIN_DURATION_MINUTES

CONSTRAINT_MESSAGES = {
    "appointment_no_practitioner_overlap": (
        "That time was taken a moment ago: the practitioner is no longer free then. "
        "Pick another slot."
    ),
    "appointment_no_room_overlap": (
        "That time was taken a moment ago: no room is free then any more. Pick another slot."
    ),
    "appointment_no_patient_overlap": ("The patient already has another appointment at that time."),
    "appointment_one_per_series_session": (
        "That session of the series was booked a moment ago by someone else."
    ),
}


# Locks are per practitioner, so two practitioners booking at once may both pick the same free
# room; the loser's transaction fails on the room constraint and simply chooses again.
ROOM_RACE_ATTEMPTS = 3


def _constraint_name(error: IntegrityError) -> str:
    cause = error.__cause__
    return getattr(getattr(cause, "diag", None), "constraint_name", None) or ""


def _is_room_race(error: IntegrityError) -> bool:
    return _constraint_name(error) == "appointment_no_room_overlap"


def _conflict_from_integrity(error: IntegrityError) -> BookingError:
    """Turn a constraint violation into the message a check would have given."""
    text = str(error)
    constraint = _constraint_name(error)
    for name, message in CONSTRAINT_MESSAGES.items():
        if name == constraint or name in text:
            return SlotUnavailable(message)
    if "series_session_number" in text:
        return SlotUnavailable(CONSTRAINT_MESSAGES["appointment_one_per_series_session"])
    raise error


def _is_practitioner(user: Any) -> bool:
    return user is not None and has_role(user, Role.PRACTITIONER)


def _notify(appointment_id: int, event: str) -> None:
    # Inside the change's own transaction: the appointment and its notice commit or roll back
    # together, so a crash or a database error after the commit cannot lose the confirmation.
    notifications.appointment_changed(appointment_id=appointment_id, event=event)


def _lock(*, practitioner_ids: Sequence[int], patient_id: int) -> None:
    """Lock in one global order (practitioners by id, then the patient) so two bookings can
    never wait on each other in a cycle. Two receptionists booking the same practitioner
    queue here, and the second sees the first's appointment when it checks."""
    list(
        Practitioner.objects.select_for_update()
        .filter(pk__in=sorted(set(practitioner_ids)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    list(Patient.objects.select_for_update().filter(pk=patient_id).values_list("pk", flat=True))


def _locked_appointment(appointment: Appointment | int) -> Appointment:
    pk = appointment if isinstance(appointment, int) else appointment.pk
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient", "practitioner", "room", "treatment_type", "series")
        .get(pk=pk)
    )


def _record(
    appointment: Appointment,
    *,
    kind: str,
    by: Any,
    now: datetime,
    from_status: str = "",
    reason: str = "",
    before: Appointment | None = None,
) -> None:
    AppointmentChange.objects.create(
        appointment=appointment,
        kind=kind,
        changed_by=by,
        changed_at=now,
        from_status=from_status,
        to_status=appointment.status,
        from_starts_at=before.starts_at if before else None,
        to_starts_at=appointment.starts_at,
        from_practitioner=before.practitioner if before else None,
        to_practitioner=appointment.practitioner,
        from_room=before.room if before else None,
        to_room=appointment.room,
        reason=reason[:300],
    )
    if before is not None or not from_status:
        changed_before, changed_after = audit.snapshot(before) if before else None, None
    else:
        changed_before, changed_after = {"status": from_status}, {"status": appointment.status}
    audit.record(
        action=AuditAction.CREATE if kind == AppointmentChangeKind.BOOKED else AuditAction.CHANGE,
        obj=appointment,
        before=changed_before,
        after=changed_after or audit.snapshot(appointment),
        detail=f"{kind}: {reason}" if reason else kind,
    )


def _require_aware(starts_at: datetime) -> None:
    if starts_at.tzinfo is None or starts_at.utcoffset() is None:
        raise ValueError("starts_at must be an aware datetime")


def _duration(treatment_type: TreatmentType, duration_minutes: int | None) -> int:
    minutes = duration_minutes or treatment_type.default_duration_minutes
    if not MIN_DURATION_MINUTES <= minutes <= MAX_DURATION_MINUTES:
        raise BookingError(
            f"An appointment lasts between {MIN_DURATION_MINUTES} and {MAX_DURATION_MINUTES} "
            "minutes."
        )
    return minutes


def _place(
    *,
    practitioner: Practitioner,
    treatment_type: TreatmentType,
    starts_at: datetime,
    duration_minutes: int,
    patient_id: int,
    room: Room | None,
    now: datetime,
    exclude_appointment_id: int | None = None,
) -> Room:
    """Check the start against every availability rule; return the room to use."""
    if not practitioner.is_active:
        raise SlotUnavailable(f"{practitioner} no longer takes bookings.")
    capable = selectors.capable_rooms(treatment_type)
    if room is not None:
        if room.pk not in {candidate.pk for candidate in capable}:
            raise SlotUnavailable(f"{room} cannot host {treatment_type}.")
        capable = [room]
    day = clock.local_day(starts_at)
    loaded = selectors.availability(
        treatment_type=treatment_type,
        first_day=day,
        last_day=day,
        now=now,
        practitioners=[practitioner],
        patient_id=patient_id,
        duration_minutes=duration_minutes,
        exclude_appointment_id=exclude_appointment_id,
        rooms=capable,
    )
    problem, free_rooms = slots.why_unavailable(
        starts_at=starts_at,
        calendar=loaded.calendar,
        request=loaded.request,
        diary=loaded.diaries[0],
        rooms=loaded.rooms,
    )
    if problem is not None:
        raise SlotUnavailable(problem)
    by_id = {candidate.pk: candidate for candidate in capable}
    return by_id[free_rooms[0]]


def _check_series_target(
    *, series: TreatmentSeries, patient: Patient, treatment_type: TreatmentType
) -> None:
    """The series is this patient's, open, and for this treatment."""
    if series.patient_id != patient.pk:
        raise BookingError("That series belongs to another patient.")
    if series.status not in selectors.OPEN_SERIES_STATUSES:
        raise BookingError(
            f"The series is {series.get_status_display().lower()}: it takes no more bookings."
        )
    if series.treatment_type_id != treatment_type.pk:
        raise BookingError(f"The series is for {series.treatment_type}, not {treatment_type}.")


@dataclass(frozen=True)
class SeriesDecision:
    number: int
    overdue: bool
    overridden: bool


def _check_series(
    *,
    series: TreatmentSeries,
    patient: Patient,
    treatment_type: TreatmentType,
    starts_at: datetime,
    number: int | None,
    override_reason: str,
    by_practitioner: bool,
    exclude_appointment_id: int | None = None,
) -> SeriesDecision:
    """Series rules: right patient and treatment, a free session number, spacing."""
    _check_series_target(series=series, patient=patient, treatment_type=treatment_type)
    state = selectors.series_state(series, exclude_appointment_id=exclude_appointment_id)
    if number is None:
        number = state.next_number
    if number > series.planned_sessions:
        raise SeriesFull(
            f"All {series.planned_sessions} planned sessions of this series are already booked "
            "or done."
        )
    previous_on, next_on = booking_rules.neighbours(sessions=state.sessions, number=number)
    proposed_on = clock.local_day(starts_at)
    if next_on is None:
        check = treatment_rules.check_session_spacing(
            previous_on=previous_on,
            proposed_on=proposed_on,
            policy=state.policy,
            override_reason=override_reason,
            override_by_practitioner=by_practitioner,
        )
    else:
        check = treatment_rules.check_neighbour_spacing(
            previous_on=previous_on,
            proposed_on=proposed_on,
            next_on=next_on,
            policy=state.policy,
            override_reason=override_reason,
            override_by_practitioner=by_practitioner,
        )
    return SeriesDecision(number=number, overdue=check.overdue, overridden=check.overridden)


def _check_spacing(
    *,
    patient: Patient,
    treatment_type: TreatmentType,
    starts_at: datetime,
    series: TreatmentSeries | None,
    number: int | None,
    override_reason: str,
    by_practitioner: bool,
    exclude_appointment_id: int | None = None,
) -> SeriesDecision:
    """The one spacing check every booking path goes through (book, move, self-service,
    book-the-rest): the series' own rules when booked in a series, then the minimum interval
    to the patient's every other session of the treatment, in any series or none.

    Returns the decision (``number`` is 0 outside a series); raises the refusal. The caller
    holds the patient's lock, so no other booking for the patient lands in between.
    """
    decision = None
    if series is not None:
        decision = _check_series(
            series=series,
            patient=patient,
            treatment_type=treatment_type,
            starts_at=starts_at,
            number=number,
            override_reason=override_reason,
            by_practitioner=by_practitioner,
            exclude_appointment_id=exclude_appointment_id,
        )
    check = treatment_rules.check_treatment_spacing(
        proposed_on=clock.local_day(starts_at),
        other_sessions_on=selectors.treatment_session_days(
            patient_id=patient.pk,
            treatment_type_id=treatment_type.pk,
            exclude_appointment_id=exclude_appointment_id,
        ),
        policy=treatment_type.spacing_policy,
        treatment=str(treatment_type),
        override_reason=override_reason,
        override_by_practitioner=by_practitioner,
    )
    if decision is None:
        return SeriesDecision(number=0, overdue=False, overridden=check.overridden)
    if check.overridden and not decision.overridden:
        return SeriesDecision(number=decision.number, overdue=decision.overdue, overridden=True)
    return decision


def _check_suitability(
    *,
    patient: Patient,
    series: TreatmentSeries | None,
    override_reason: str,
    by: Any,
) -> str:
    """A patient assessed as not suitable needs a practitioner's recorded override.

    Returns the override reason to store ("" when none was needed). A recorded override on
    the series (made when it was planned) covers its sessions. A patient with no assessment
    yet can be booked: the first visit starts with one.
    """
    outcome, summary = selectors.latest_suitability(patient)
    if outcome != Suitability.NOT_SUITABLE:
        return ""
    if series is not None and series.suitability_override_reason.strip():
        return ""
    # The message reaches receptionists and API clients: the outcome and what to do, never
    # the medical reason (that stays in ``clinical_detail``).
    detail = summary or "Not suitable"
    if not override_reason.strip():
        raise SuitabilityOverrideRequired(
            f"{patient} was assessed as not suitable: a practitioner must review before "
            "booking, and booking a treatment needs their recorded override reason.",
            clinical_detail=detail,
        )
    if not _is_practitioner(by):
        raise SuitabilityOverrideRequired(
            f"{patient} was assessed as not suitable: a practitioner must review before "
            "booking. Only a practitioner can override that, with a recorded reason.",
            clinical_detail=detail,
        )
    return override_reason.strip()


def _book_locked(
    *,
    patient: Patient,
    practitioner: Practitioner,
    treatment_type: TreatmentType,
    starts_at: datetime,
    booked_by: Any,
    room: Room | None,
    series: TreatmentSeries | None,
    series_session_number: int | None,
    duration_minutes: int | None,
    notes: str,
    spacing_override_reason: str,
    suitability_override_reason: str,
    now: datetime,
) -> Appointment:
    _require_aware(starts_at)
    if not patient.is_active:
        raise BookingError(f"{patient} is archived: restore the record before booking.")
    if not treatment_type.is_active:
        raise BookingError(f"{treatment_type} is no longer offered.")
    minutes = _duration(treatment_type, duration_minutes)
    suitability_reason = _check_suitability(
        patient=patient, series=series, override_reason=suitability_override_reason, by=booked_by
    )
    if series is not None:
        _check_series_target(series=series, patient=patient, treatment_type=treatment_type)
    chosen_room = _place(
        practitioner=practitioner,
        treatment_type=treatment_type,
        starts_at=starts_at,
        duration_minutes=minutes,
        patient_id=patient.pk,
        room=room,
        now=now,
    )
    # After the slot: a patient already booked at that time hears that, not spacing.
    decision = _check_spacing(
        patient=patient,
        treatment_type=treatment_type,
        starts_at=starts_at,
        series=series,
        number=series_session_number,
        override_reason=spacing_override_reason,
        by_practitioner=_is_practitioner(booked_by),
    )
    ends_at = starts_at + timedelta(minutes=minutes)
    overridden = decision.overridden
    appointment = Appointment.objects.create(
        patient=patient,
        practitioner=practitioner,
        room=chosen_room,
        treatment_type=treatment_type,
        series=series,
        series_session_number=decision.number if series is not None else None,
        starts_at=starts_at,
        ends_at=ends_at,
        blocked_until=ends_at + timedelta(minutes=treatment_type.buffer_minutes),
        status=AppointmentStatus.BOOKED,
        booked_by=booked_by,
        notes=notes.strip(),
        overdue=decision.overdue,
        spacing_override_reason=spacing_override_reason.strip() if overridden else "",
        suitability_override_reason=suitability_reason,
        override_by=booked_by if (overridden or suitability_reason) else None,
    )
    _record(appointment, kind=AppointmentChangeKind.BOOKED, by=booked_by, now=now)
    _notify(appointment.pk, "booked")
    return appointment


def appointment_book(
    *,
    patient: Patient,
    practitioner: Practitioner,
    treatment_type: TreatmentType,
    starts_at: datetime,
    booked_by: Any = None,
    room: Room | None = None,
    series: TreatmentSeries | None = None,
    series_session_number: int | None = None,
    duration_minutes: int | None = None,
    notes: str = "",
    spacing_override_reason: str = "",
    suitability_override_reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Book an appointment, or raise a :class:`~treatments.rules.DomainError` saying why not.

    Refuses overlaps (practitioner and room including cleanup time, patient), times outside
    opening or working hours, breaks, time off, closures, the minimum notice and the booking
    horizon. With a series: the next free session number (or ``series_session_number``),
    spacing from the previous session (:class:`~treatments.rules.SpacingViolation` with
    ``earliest`` when too soon; later than the window is booked and flagged ``overdue``).
    In a series or not, no two sessions of the treatment for the patient sit closer than its
    minimum interval (:func:`_check_spacing`); a practitioner may override with a reason.
    A not-suitable patient needs ``suitability_override_reason`` from a practitioner.
    ``booked_by`` is ``None`` when the patient books through a self-service link.
    """
    now = now or timezone.now()
    for attempt in range(1, ROOM_RACE_ATTEMPTS + 1):
        try:
            with transaction.atomic(durable=True):
                _lock(practitioner_ids=[practitioner.pk], patient_id=patient.pk)
                return _book_locked(
                    patient=patient,
                    practitioner=practitioner,
                    treatment_type=treatment_type,
                    starts_at=starts_at,
                    booked_by=booked_by,
                    room=room,
                    series=series,
                    series_session_number=series_session_number,
                    duration_minutes=duration_minutes,
                    notes=notes,
                    spacing_override_reason=spacing_override_reason,
                    suitability_override_reason=suitability_override_reason,
                    now=now,
                )
        except IntegrityError as error:
            if room is None and attempt < ROOM_RACE_ATTEMPTS and _is_room_race(error):
                continue  # another practitioner took the room we picked: pick again
            raise _conflict_from_integrity(error) from error
    raise AssertionError("unreachable: the last attempt returns or raises")


def appointment_reschedule(
    *,
    appointment: Appointment | int,
    starts_at: datetime,
    changed_by: Any = None,
    practitioner: Practitioner | None = None,
    room: Room | None = None,
    reason: str = "",
    spacing_override_reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Move an active appointment to a new time (and optionally practitioner or room).

    The same availability rules as booking apply, ignoring the appointment's own old time.
    A series session is re-checked against both neighbours in its series. The old time,
    practitioner and room are kept in the appointment's history. A confirmed appointment
    goes back to booked: the patient confirmed the old time, not the new one.
    """
    now = now or timezone.now()
    _require_aware(starts_at)
    pk = appointment if isinstance(appointment, int) else appointment.pk
    current = Appointment.objects.select_related("practitioner", "patient").get(pk=pk)
    target = practitioner or current.practitioner
    try:
        with transaction.atomic(durable=True):
            _lock(
                practitioner_ids=[current.practitioner_id, target.pk], patient_id=current.patient_id
            )
            locked = _locked_appointment(pk)
            refusal = booking_rules.transition_refusal(
                "move",
                status=locked.status,
                starts_at=locked.starts_at,
                now=now,
                tz=clock.clinic_tz(),
                roles=_roles(changed_by),
            )
            if refusal is not None:
                raise refusal
            before = Appointment(
                starts_at=locked.starts_at, practitioner=locked.practitioner, room=locked.room
            )
            minutes = int((locked.ends_at - locked.starts_at).total_seconds() // 60)
            wanted_room = room
            if wanted_room is None and target.pk == locked.practitioner_id:
                wanted_room = _room_if_free(locked, target, starts_at, minutes, now)
            chosen_room = _place(
                practitioner=target,
                treatment_type=locked.treatment_type,
                starts_at=starts_at,
                duration_minutes=minutes,
                patient_id=locked.patient_id,
                room=wanted_room,
                now=now,
                exclude_appointment_id=locked.pk,
            )
            decision = _check_spacing(
                patient=locked.patient,
                treatment_type=locked.treatment_type,
                starts_at=starts_at,
                series=locked.series,
                number=locked.series_session_number,
                override_reason=spacing_override_reason,
                by_practitioner=_is_practitioner(changed_by),
                exclude_appointment_id=locked.pk,
            )
            from_status = locked.status
            locked.starts_at = starts_at
            locked.ends_at = starts_at + timedelta(minutes=minutes)
            locked.blocked_until = locked.ends_at + timedelta(
                minutes=locked.treatment_type.buffer_minutes
            )
            locked.practitioner = target
            locked.room = chosen_room
            locked.status = AppointmentStatus.BOOKED
            locked.confirmed_at = None
            if locked.series is not None:
                locked.overdue = decision.overdue
            if decision.overridden:
                locked.spacing_override_reason = spacing_override_reason.strip()
                locked.override_by = changed_by
            locked.save()
            _record(
                locked,
                kind=AppointmentChangeKind.RESCHEDULED,
                by=changed_by,
                now=now,
                from_status=from_status,
                reason=reason.strip(),
                before=before,
            )
            _notify(locked.pk, "rescheduled")
            return locked
    except IntegrityError as error:
        raise _conflict_from_integrity(error) from error


def _room_if_free(
    appointment: Appointment,
    practitioner: Practitioner,
    starts_at: datetime,
    minutes: int,
    now: datetime,
) -> Room | None:
    """Keep the appointment's room when it is free at the new time; else let any room do."""
    try:
        return _place(
            practitioner=practitioner,
            treatment_type=appointment.treatment_type,
            starts_at=starts_at,
            duration_minutes=minutes,
            patient_id=appointment.patient_id,
            room=appointment.room,
            now=now,
            exclude_appointment_id=appointment.pk,
        )
    except SlotUnavailable:
        return None


def _roles(user: Any) -> frozenset[str] | None:
    """The acting user's roles for the transition table; ``None`` for a patient's own link."""
    return None if user is None else user_roles(user)


def _transition(
    appointment: Appointment | int,
    *,
    action: str,
    by: Any,
    now: datetime,
    reason: str = "",
    event: str = "status",
    kind: str = AppointmentChangeKind.STATUS,
    durable: bool = True,
) -> Appointment:
    """Apply ``action`` of :data:`bookings.rules.TRANSITIONS`: the table decides from which
    statuses, when and by whom; the locked row is checked, so two desks cannot race it.
    Its own durable transaction unless a ``*_locked`` caller already holds one."""
    to = booking_rules.TRANSITIONS[action].target
    with transaction.atomic(durable=durable):
        locked = _locked_appointment(appointment)
        refusal = booking_rules.transition_refusal(
            action,
            status=locked.status,
            starts_at=locked.starts_at,
            now=now,
            tz=clock.clinic_tz(),
            roles=_roles(by),
        )
        if refusal is not None:
            if locked.status == to and isinstance(refusal, InvalidTransition):
                return locked  # a second click, or a patient's link opened twice
            raise refusal
        from_status = locked.status
        locked.status = to
        # Types: statuses are str values of the choices.
        stamp = {  # type: ignore[call-overload]
            AppointmentStatus.CONFIRMED: "confirmed_at",
            AppointmentStatus.CHECKED_IN: "checked_in_at",
            AppointmentStatus.COMPLETED: "completed_at",
            AppointmentStatus.CANCELLED: "cancelled_at",
        }.get(to)
        if stamp:
            setattr(locked, stamp, now)
        if to == AppointmentStatus.CANCELLED:
            locked.cancellation_reason = reason[:300]
        locked.save()
        _record(locked, kind=kind, by=by, now=now, from_status=from_status, reason=reason)
        _notify(locked.pk, event)
        return locked


def appointment_confirm(
    *, appointment: Appointment | int, confirmed_by: Any = None, now: datetime | None = None
) -> Appointment:
    """Booked -> confirmed (by staff, or by the patient's link when ``confirmed_by`` is None).
    Confirming twice is harmless."""
    return _transition(appointment, action="confirm", by=confirmed_by, now=now or timezone.now())


def appointment_cancel(
    *,
    appointment: Appointment | int,
    reason: str,
    cancelled_by: Any = None,
    now: datetime | None = None,
) -> Appointment:
    """Cancel an active appointment with a reason; its time becomes free at once."""
    if not reason.strip():
        raise BookingError("Give a reason for the cancellation.")
    return _transition(
        appointment,
        action="cancel",
        by=cancelled_by,
        now=now or timezone.now(),
        reason=reason.strip(),
        event="cancelled",
        kind=AppointmentChangeKind.CANCELLED,
    )


def appointment_cancel_locked(
    *, appointment: Appointment | int, reason: str, cancelled_by: Any = None, now: datetime
) -> Appointment:
    """:func:`appointment_cancel` for a caller already inside its own transaction (erasing a
    patient cancels their upcoming visits with the erasure, all or nothing)."""
    if not reason.strip():
        raise BookingError("Give a reason for the cancellation.")
    return _transition(
        appointment,
        action="cancel",
        by=cancelled_by,
        now=now,
        reason=reason.strip(),
        event="cancelled",
        kind=AppointmentChangeKind.CANCELLED,
        durable=False,
    )


def appointment_check_in(
    *, appointment: Appointment | int, checked_in_by: Any, now: datetime | None = None
) -> Appointment:
    """Booked or confirmed -> checked in, on the day of the appointment only."""
    return _transition(appointment, action="check_in", by=checked_in_by, now=now or timezone.now())


def appointment_mark_no_show(
    *, appointment: Appointment | int, marked_by: Any, now: datetime | None = None
) -> Appointment:
    """Booked or confirmed -> no-show, once the appointment's start has passed."""
    return _transition(appointment, action="no_show", by=marked_by, now=now or timezone.now())


def appointment_complete(
    *, appointment: Appointment | int, completed_by: Any, now: datetime | None = None
) -> Appointment:
    """Checked in (or booked/confirmed) -> completed, once it has started, and only by a
    practitioner or a manager (:class:`~clinic.errors.NotAllowed` otherwise, whatever page or
    endpoint asked). The practitioner then logs the session from the appointment page."""
    return _transition(appointment, action="complete", by=completed_by, now=now or timezone.now())


def appointment_set_status(
    *,
    appointment: Appointment | int,
    status: str,
    changed_by: Any,
    reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    """One entry point for the status actions (the API's ``status`` endpoint), through the
    same transition table as every page."""
    action = booking_rules.STATUS_ACTIONS.get(status)
    if action == "cancel":
        return appointment_cancel(
            appointment=appointment, reason=reason, cancelled_by=changed_by, now=now
        )
    if action is not None:
        return _transition(appointment, action=action, by=changed_by, now=now or timezone.now())
    raise InvalidTransition(f"An appointment cannot be set to {status!r} directly.")


@dataclass(frozen=True)
class PlannedSession:
    """One row of "book the rest of the series": when, with whom, optionally which room."""

    starts_at: datetime
    practitioner: Practitioner
    room: Room | None = None


class SeriesPlanError(BookingError):
    """Booking the rest of a series failed at one session; nothing was booked."""

    code = "series_plan_refused"
    data_fields = ("earliest",)

    def __init__(self, message: str, *, index: int, earliest: Any = None) -> None:
        super().__init__(message)
        self.index = index
        self.earliest = earliest


def series_book_remaining(
    *,
    series: TreatmentSeries,
    plan: Sequence[PlannedSession],
    booked_by: Any,
    spacing_override_reason: str = "",
    suitability_override_reason: str = "",
    now: datetime | None = None,
) -> list[Appointment]:
    """Book every planned session of a series at once, in order: all or none.

    Each session goes through the same checks as :func:`appointment_book`, spaced from the
    one booked just before it. If any fails, nothing is booked and :class:`SeriesPlanError`
    says which row (``index``) and why.
    """
    now = now or timezone.now()
    if not plan:
        raise BookingError("Choose at least one session to book.")
    ordered = sorted(enumerate(plan), key=lambda item: item[1].starts_at)
    series = TreatmentSeries.objects.select_related("patient", "treatment_type").get(pk=series.pk)
    booked: list[Appointment] = []
    try:
        with transaction.atomic(durable=True):
            _lock(
                practitioner_ids=[item.practitioner.pk for item in plan],
                patient_id=series.patient_id,
            )
            for index, item in ordered:
                try:
                    booked.append(
                        _book_locked(
                            patient=series.patient,
                            practitioner=item.practitioner,
                            treatment_type=series.treatment_type,
                            starts_at=item.starts_at,
                            booked_by=booked_by,
                            room=item.room,
                            series=series,
                            series_session_number=None,
                            duration_minutes=None,
                            notes="",
                            spacing_override_reason=spacing_override_reason,
                            suitability_override_reason=suitability_override_reason,
                            now=now,
                        )
                    )
                except treatment_rules.DomainError as error:
                    when = clock.local_day(item.starts_at)
                    raise SeriesPlanError(
                        f"Session on {long_date(when)}: {error.message} Nothing was booked.",
                        index=index,
                        earliest=getattr(error, "earliest", None),
                    ) from error
            # One email for the whole series instead of one confirmation per session.
            notifications.series_booked(appointments=booked, now=now)
    except IntegrityError as error:
        conflict = _conflict_from_integrity(error)
        raise SeriesPlanError(f"{conflict.message} Nothing was booked.", index=0) from error
    return booked
