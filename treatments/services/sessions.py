"""Logging, signing and amending treatment sessions.

Every function is one transaction and locks the series row first, so two people logging or
signing sessions of one series queue up instead of racing for the same session number.

A session is logged as a draft (``signed_at`` empty; at most one per series), may be edited or
discarded while a draft, and is then signed: signing locks it, creates its aftercare note and
moves the series on. After that only :func:`session_amend` changes it, writing an
:class:`~treatments.models.Amendment` with who, when, why and the before/after values; the
database refuses any other update of a signed row (see :mod:`treatments.guards`).

Spacing is measured in clinic-local calendar days (:func:`clinic.clock.local_day`):
a session inside the treatment type's minimum interval is refused with the earliest allowed
date, unless a practitioner records an override reason; a later one is flagged overdue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction

from clinic import audit, clock
from clinic.formats import long_date
from clinic.models import AuditAction, Practitioner
from clinic.roles import Role, has_role
from treatments import appointment_links, rules
from treatments.choices import Redness, SeriesStatus, TreatedArea
from treatments.models import (
    AftercareNote,
    AftercareStatus,
    Amendment,
    TreatmentSeries,
    TreatmentSession,
)
from treatments.parameters import ParameterError, SchemaError, clean_parameters
from treatments.rules import MAX_DURATION_MINUTES, MIN_DURATION_MINUTES

OTHER_RESPONSE_MAX_LENGTH = 300

# Fields an amendment may change, in the order the trail lists them.
AMENDABLE_FIELDS = (
    "practitioner",
    "performed_at",
    "areas",
    "parameters",
    "duration_minutes",
    "redness",
    "swelling",
    "other_response",
    "comfort",
    "notes",
)


class SessionError(rules.DomainError):
    """A session the rules refuse.

    ``errors`` maps form fields to messages when several things are wrong at once; parameter
    problems use ``parameters.<name>``. ``field`` is set for a single-field problem.
    """

    code = "session_refused"

    def __init__(
        self, message: str, *, field: str | None = None, errors: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.errors = errors or ({field: message} if field else {})


@dataclass(frozen=True)
class SessionRecord:
    """What a practitioner records about a session: the values of the log form."""

    practitioner: Practitioner
    performed_at: datetime
    areas: list[str]
    parameters: dict[str, Any]
    duration_minutes: int
    redness: str = Redness.NONE
    swelling: bool = False
    other_response: str = ""
    comfort: int | None = None
    notes: str = ""
    aftercare_additions: str = ""


@dataclass(frozen=True)
class LoggedSession:
    """A logged session and what the spacing rules said about it (overdue, overridden)."""

    session: TreatmentSession
    spacing: rules.SpacingCheck = field(
        default_factory=lambda: rules.SpacingCheck(overdue=False, overridden=False)
    )


# --------------------------------------------------------------------------------------------
# Checking what was recorded
# --------------------------------------------------------------------------------------------


def _clean_record(
    record: SessionRecord,
    *,
    series: TreatmentSeries,
    today: date,
    allow_inactive_practitioner_id: int | None = None,
) -> dict[str, Any]:
    """The record's values as model fields, or one :class:`SessionError` listing every problem."""
    errors: dict[str, str] = {}
    practitioner = record.practitioner
    if not practitioner.is_active and practitioner.pk != allow_inactive_practitioner_id:
        errors["practitioner"] = f"{practitioner} is no longer active; choose who treated."
    performed_at = record.performed_at
    if performed_at.tzinfo is None:
        errors["performed_at"] = "Enter the date and time of the session."
    elif clock.local_day(performed_at) > today:
        errors["performed_at"] = (
            f"{long_date(performed_at)} is in the future: log a "
            "session on or after the day it happens."
        )
    areas = list(dict.fromkeys(record.areas))
    if not areas:
        errors["areas"] = "Choose at least one treated area."
    elif unknown := [area for area in areas if area not in TreatedArea.values]:
        errors["areas"] = f"Unknown area: {', '.join(unknown)}."
    parameters: dict[str, Any] = {}
    try:
        parameters = clean_parameters(series.treatment_type.parameter_specs, record.parameters)
    except ParameterError as error:
        errors.update({f"parameters.{name}": message for name, message in error.errors.items()})
    except SchemaError:
        errors["parameters"] = (
            f"The parameter list of {series.treatment_type.name} is broken; ask a manager to "
            "fix it in the treatment catalogue."
        )
    if not MIN_DURATION_MINUTES <= record.duration_minutes <= MAX_DURATION_MINUTES:
        errors["duration_minutes"] = (
            f"Duration must be between {MIN_DURATION_MINUTES} and {MAX_DURATION_MINUTES} minutes."
        )
    if record.redness not in Redness.values:
        errors["redness"] = "Choose the redness: none, mild, moderate or marked."
    if record.comfort is not None and not 1 <= record.comfort <= 5:
        errors["comfort"] = "Comfort must be between 1 (painful) and 5 (comfortable)."
    if len(record.other_response) > OTHER_RESPONSE_MAX_LENGTH:
        errors["other_response"] = (
            f"Keep the other response to {OTHER_RESPONSE_MAX_LENGTH} characters; put more in "
            "the notes."
        )
    if errors:
        raise SessionError(" ".join(errors.values()), errors=errors)
    return {
        "practitioner": practitioner,
        "performed_at": performed_at,
        "areas": areas,
        "parameters": parameters,
        "duration_minutes": record.duration_minutes,
        "redness": record.redness,
        "swelling": record.swelling,
        "other_response": record.other_response.strip(),
        "comfort": record.comfort,
        "notes": record.notes.strip(),
    }


def _spacing_policy(series: TreatmentSeries) -> rules.SpacingPolicy:
    return series.treatment_type.spacing_policy


def _check_spacing_after(
    *,
    series: TreatmentSeries,
    previous: TreatmentSession | None,
    performed_at: datetime,
    is_maintenance: bool,
    override_reason: str,
    by: Any,
) -> rules.SpacingCheck:
    check = rules.check_session_spacing(
        previous_on=clock.local_day(previous.performed_at) if previous else None,
        proposed_on=clock.local_day(performed_at),
        policy=_spacing_policy(series),
        override_reason=override_reason,
        override_by_practitioner=has_role(by, Role.PRACTITIONER),
    )
    if is_maintenance and check.overdue:
        # Maintenance follows the provider's judgement: it is never "overdue" by the
        # series window.
        check = rules.SpacingCheck(overdue=False, overridden=check.overridden)
    return check


def _lock_series(series: TreatmentSeries) -> TreatmentSeries:
    return (
        TreatmentSeries.objects.select_for_update()
        .select_related("patient", "treatment_type")
        .get(pk=series.pk)
    )


def _lock_session(session: TreatmentSession) -> tuple[TreatmentSeries, TreatmentSession]:
    series = _lock_series(session.series)
    locked = TreatmentSession.objects.select_for_update().get(pk=session.pk)
    locked.series = series
    return series, locked


# --------------------------------------------------------------------------------------------
# Drafts
# --------------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def session_log(
    *,
    series: TreatmentSeries,
    record: SessionRecord,
    by: Any,
    now: datetime,
    spacing_override_reason: str = "",
    appointment: Any = None,
) -> LoggedSession:
    """Log the next session of a series as a draft, to be signed.

    Invariants: the series is not stopped and has no other unsigned session; the session is
    at least the minimum interval after the previous one in clinic-local days (or a
    practitioner recorded why not); its parameters fit the treatment type's schema. The
    optional ``appointment`` (a ``bookings.Appointment`` of the same patient) is linked to it.
    """
    series = _lock_series(series)
    if series.status == SeriesStatus.STOPPED:
        raise SessionError(
            "This series is stopped: no more sessions can be logged. Plan a new series."
        )
    draft = series.sessions.filter(signed_at__isnull=True).first()
    if draft is not None:
        raise SessionError(
            f"Session {draft.number} is logged but not signed yet: sign or discard it before "
            "logging another."
        )
    previous = series.sessions.order_by("-number").first()
    number = previous.number + 1 if previous else 1
    today = clock.today(now)
    values = _clean_record(record, series=series, today=today)
    is_maintenance = number > series.planned_sessions or series.status in (
        SeriesStatus.COMPLETED,
        SeriesStatus.MAINTENANCE,
    )
    spacing = _check_spacing_after(
        series=series,
        previous=previous,
        performed_at=values["performed_at"],
        is_maintenance=is_maintenance,
        override_reason=spacing_override_reason,
        by=by,
    )
    session = TreatmentSession.objects.create(
        series=series,
        number=number,
        is_maintenance=is_maintenance,
        overdue=spacing.overdue,
        spacing_override_reason=spacing_override_reason.strip() if spacing.overridden else "",
        aftercare_additions=record.aftercare_additions.strip(),
        logged_by=by,
        **values,
    )
    if appointment is not None:
        appointment_links.link(session=session, appointment=appointment)
    audit.record(
        action=AuditAction.CREATE,
        obj=session,
        patient_id=series.patient_id,
        after=audit.snapshot(session),
    )
    return LoggedSession(session=session, spacing=spacing)


@transaction.atomic(durable=True)
def session_update_draft(
    *,
    session: TreatmentSession,
    record: SessionRecord,
    by: Any,
    now: datetime,
    spacing_override_reason: str = "",
) -> LoggedSession:
    """Change a session that is not signed yet; the same rules as logging it apply."""
    series, session = _lock_session(session)
    if session.signed_at is not None:
        raise SessionError(
            f"Session {session.number} is signed: change it with an amendment, giving a reason."
        )
    before = audit.snapshot(session)
    previous = series.sessions.filter(number__lt=session.number).order_by("-number").first()
    values = _clean_record(
        record,
        series=series,
        today=clock.today(now),
        allow_inactive_practitioner_id=session.practitioner_id,
    )
    spacing = _check_spacing_after(
        series=series,
        previous=previous,
        performed_at=values["performed_at"],
        is_maintenance=session.is_maintenance,
        override_reason=spacing_override_reason,
        by=by,
    )
    for name, value in values.items():
        setattr(session, name, value)
    session.overdue = spacing.overdue
    session.spacing_override_reason = spacing_override_reason.strip() if spacing.overridden else ""
    session.aftercare_additions = record.aftercare_additions.strip()
    session.save()
    audit.record(
        action=AuditAction.CHANGE,
        obj=session,
        patient_id=series.patient_id,
        before=before,
        after=audit.snapshot(session),
    )
    return LoggedSession(session=session, spacing=spacing)


@transaction.atomic(durable=True)
def session_discard(*, session: TreatmentSession) -> None:
    """Delete a session logged by mistake. Only an unsigned draft can go; an appointment
    linked to it is unlinked (and stays booked)."""
    series, session = _lock_session(session)
    if session.signed_at is not None:
        raise SessionError("A signed session cannot be discarded; amend it instead.")
    audit.record(
        action=AuditAction.DELETE,
        obj=session,
        patient_id=series.patient_id,
        before=audit.snapshot(session),
    )
    appointment_links.unlink(session=session)
    session.delete()


@transaction.atomic(durable=True)
def session_link_appointment(*, session: TreatmentSession, appointment: Any) -> None:
    """Link an appointment to a session logged without one (for the bookings app)."""
    _series, session = _lock_session(session)
    appointment_links.link(session=session, appointment=appointment)


# --------------------------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------------------------


def _refresh_series_after_signing(series: TreatmentSeries, session: TreatmentSession) -> None:
    signed = series.sessions.filter(signed_at__isnull=False)
    series.completed_sessions = signed.count()
    latest = signed.order_by("-performed_at").values_list("performed_at", flat=True).first()
    series.last_session_on = clock.local_day(latest) if latest else None
    if session.is_maintenance:
        series.status = SeriesStatus.MAINTENANCE
    elif series.completed_sessions >= series.planned_sessions:
        series.status = SeriesStatus.COMPLETED
    elif series.status == SeriesStatus.PLANNED:
        series.status = SeriesStatus.ACTIVE
    series.save(update_fields=["completed_sessions", "last_session_on", "status"])


@transaction.atomic(durable=True)
def session_sign(*, session: TreatmentSession, by: Any, now: datetime) -> AftercareNote:
    """Sign a session: it is locked from then on, its aftercare note is written from the
    treatment type's template plus the practitioner's additions, and the series moves on
    (planned -> active, the last planned session -> completed, a maintenance session ->
    maintenance).

    The note starts ``pending`` for the aftercare sender, or ``not_sent`` when the patient has
    no email address.
    """
    series, session = _lock_session(session)
    if session.signed_at is not None:
        raise SessionError(f"Session {session.number} is already signed.")
    if series.status == SeriesStatus.STOPPED:
        raise SessionError("This series is stopped; its sessions can no longer be signed.")
    session.signed_at = now
    session.signed_by = by
    session.save(update_fields=["signed_at", "signed_by"])
    note = AftercareNote.objects.create(
        session=session,
        template_text=series.treatment_type.aftercare_template,
        practitioner_additions=session.aftercare_additions,
        status=AftercareStatus.PENDING if series.patient.email else AftercareStatus.NOT_SENT,
    )
    audit.record(action=AuditAction.SIGN, obj=session, patient_id=series.patient_id)
    audit.record(
        action=AuditAction.CREATE,
        obj=note,
        patient_id=series.patient_id,
        after=audit.snapshot(note),
    )
    _refresh_series_after_signing(series, session)
    return note


# --------------------------------------------------------------------------------------------
# Amending a signed session
# --------------------------------------------------------------------------------------------


def _as_record_value(name: str, value: Any) -> Any:
    """A field value as it is kept in the amendment trail (JSON, readable)."""
    if name == "practitioner":
        return str(value)
    if name == "performed_at":
        return value.astimezone(clock.clinic_tz()).isoformat(timespec="minutes")
    return value


@transaction.atomic(durable=True)
def session_amend(
    *,
    session: TreatmentSession,
    record: SessionRecord,
    reason: str,
    by: Any,
    now: datetime,
    spacing_override_reason: str = "",
) -> Amendment:
    """Change a signed session, keeping who, when, why and every before/after value.

    Invariants: only signed sessions are amended, always with a reason; something must
    change; a new date keeps the minimum interval to both neighbouring sessions (or a
    practitioner records why not). The aftercare note already given stays as it was.
    """
    series, session = _lock_session(session)
    if session.signed_at is None:
        raise SessionError("This session is not signed yet: edit it directly.")
    reason = reason.strip()
    if not reason:
        raise SessionError("Give the reason for the amendment.", field="reason")
    values = _clean_record(
        record,
        series=series,
        today=clock.today(now),
        allow_inactive_practitioner_id=session.practitioner_id,
    )
    changes: dict[str, dict[str, Any]] = {}
    for name in AMENDABLE_FIELDS:
        before, after = getattr(session, name), values[name]
        if _as_record_value(name, before) != _as_record_value(name, after):
            changes[name] = {
                "before": _as_record_value(name, before),
                "after": _as_record_value(name, after),
            }
    if not changes:
        raise SessionError("Nothing has changed: change a value, or leave the session as it is.")

    update_fields = list(changes)
    if "performed_at" in changes:
        neighbours = series.sessions.exclude(pk=session.pk)
        previous = neighbours.filter(number__lt=session.number).order_by("-number").first()
        following = neighbours.filter(number__gt=session.number).order_by("number").first()
        spacing = rules.check_neighbour_spacing(
            previous_on=clock.local_day(previous.performed_at) if previous else None,
            proposed_on=clock.local_day(values["performed_at"]),
            next_on=clock.local_day(following.performed_at) if following else None,
            policy=_spacing_policy(series),
            override_reason=spacing_override_reason,
            override_by_practitioner=has_role(by, Role.PRACTITIONER),
        )
        overdue = spacing.overdue and not session.is_maintenance
        if overdue != session.overdue:
            changes["overdue"] = {"before": session.overdue, "after": overdue}
            session.overdue = overdue
            update_fields.append("overdue")
        override = spacing_override_reason.strip() if spacing.overridden else ""
        if override and override != session.spacing_override_reason:
            changes["spacing_override_reason"] = {
                "before": session.spacing_override_reason,
                "after": override,
            }
            session.spacing_override_reason = override
            update_fields.append("spacing_override_reason")
    for name in changes:
        if name in values:
            setattr(session, name, values[name])
    # The trigger lets a signed row change only when its count moves to the number of an
    # amendment written for it in this transaction (the series lock serialises amenders).
    amendment = Amendment.objects.create(
        session=session,
        amended_by=by,
        reason=reason,
        changes=changes,
        sequence=session.amendment_count + 1,
    )
    session.amendment_count = amendment.sequence
    session.save(update_fields=[*update_fields, "amendment_count"])
    audit.record(
        action=AuditAction.AMEND,
        obj=session,
        patient_id=series.patient_id,
        before={name: change["before"] for name, change in changes.items()},
        after={name: change["after"] for name, change in changes.items()},
        detail=f"Reason: {reason}",
    )
    if "performed_at" in changes:
        _refresh_series_after_signing_dates(series)
    return amendment


def _refresh_series_after_signing_dates(series: TreatmentSeries) -> None:
    latest = (
        series.sessions.filter(signed_at__isnull=False)
        .order_by("-performed_at")
        .values_list("performed_at", flat=True)
        .first()
    )
    series.last_session_on = clock.local_day(latest) if latest else None
    series.save(update_fields=["last_session_on"])
