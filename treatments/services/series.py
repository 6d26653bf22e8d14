"""Planning, changing and stopping treatment series.

Every function here is one transaction, takes keyword arguments and raises a
:class:`~treatments.rules.DomainError` subclass with a message for the person at the desk.

Series status moves planned -> active (first session signed) -> completed (the last planned
session signed) -> maintenance (a practitioner starts it, or a maintenance session is signed);
any of them -> stopped, with a reason. The session services in
:mod:`treatments.services.sessions` drive the transitions that come from signing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction

from clinic import audit
from clinic.formats import plain_date
from clinic.models import AuditAction, Patient, Practitioner
from clinic.roles import Role, has_role
from treatments import rules
from treatments.choices import Concern, SeriesStatus, Suitability
from treatments.models import SkinAssessment, TreatmentSeries, TreatmentType
from treatments.selectors import latest_screening
from treatments.selectors_series import OPEN_SERIES_STATUSES

MAX_PLANNED_SESSIONS = 30
PLAN_AHEAD_DAYS = 366


class SeriesError(rules.DomainError):
    """A series change the rules refuse. ``field`` names the form field it concerns, if any."""

    code = "series_refused"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SuitabilityRefused(SeriesError):
    """The latest screening says not suitable and no practitioner recorded an override."""

    code = "suitability_refused"

    def __init__(self, message: str, *, screening: rules.Screening) -> None:
        super().__init__(message, field="override_reason")
        self.screening = screening


@dataclass(frozen=True)
class PlanningContext:
    """What planning a series for a patient has to go on: their latest assessment and its
    screening today, and the session count each treatment type suggests."""

    assessment: SkinAssessment | None
    screening: rules.Screening | None
    reassessment_due: bool

    @property
    def needs_override(self) -> bool:
        return self.screening is not None and self.screening.outcome == Suitability.NOT_SUITABLE

    @property
    def concerns(self) -> dict[str, str]:
        return dict(self.assessment.concerns or {}) if self.assessment else {}

    def suggested_sessions(self, treatment_type: TreatmentType) -> int:
        return rules.suggested_session_count(
            concerns=self.concerns, sessions_by_severity=treatment_type.sessions_by_severity
        )


def planning_context(*, patient: Patient, today: date) -> PlanningContext:
    """The latest assessment and its screening as recorded (what the patient's badge shows)."""
    latest = latest_screening(patient, today=today)
    return PlanningContext(
        assessment=latest.assessment,
        screening=latest.screening,
        reassessment_due=latest.reassessment_due,
    )


def _clean_concerns(concerns: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(concerns))
    unknown = [concern for concern in chosen if concern not in Concern.values]
    if unknown:
        raise SeriesError(f"Unknown concern: {', '.join(unknown)}.", field="targeted_concerns")
    if not chosen:
        raise SeriesError(
            "Choose at least one concern the series targets.", field="targeted_concerns"
        )
    return chosen


def _check_planned_sessions(planned_sessions: int, *, at_least: int = 1) -> None:
    if not at_least <= planned_sessions <= MAX_PLANNED_SESSIONS:
        if at_least > 1:
            message = (
                f"Plan between {at_least} and {MAX_PLANNED_SESSIONS} sessions: "
                f"{at_least} are already done."
            )
        else:
            message = f"Plan between 1 and {MAX_PLANNED_SESSIONS} sessions."
        raise SeriesError(message, field="planned_sessions")


def _check_start(start_on: date, *, today: date) -> None:
    if start_on > today + timedelta(days=PLAN_AHEAD_DAYS):
        raise SeriesError(
            "A series can start at most a year ahead; plan it nearer the time.",
            field="start_on",
        )


@transaction.atomic(durable=True)
def series_plan(
    *,
    patient: Patient,
    treatment_type: TreatmentType,
    planned_by: Practitioner,
    targeted_concerns: Iterable[str],
    planned_sessions: int,
    start_on: date,
    by: Any,
    today: date,
    override_reason: str = "",
) -> TreatmentSeries:
    """Plan a course of sessions for a patient.

    Invariants: the patient has a skin assessment; a latest screening of ``not suitable`` is
    planned only with a practitioner's recorded override reason; a patient has at most one
    planned or active series of the same treatment type (the patient row is locked so two
    practitioners cannot both plan it).
    """
    # Lock the patient: two planners racing would otherwise both pass the duplicate check.
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if not patient.is_active:
        raise SeriesError(f"{patient.full_name} is archived; reactivate them to plan a series.")
    if not treatment_type.is_active:
        raise SeriesError(
            f"{treatment_type.name} is no longer offered; choose another treatment.",
            field="treatment_type",
        )
    if not planned_by.is_active:
        raise SeriesError(f"{planned_by} is no longer active.", field="planned_by")
    concerns = _clean_concerns(targeted_concerns)
    _check_planned_sessions(planned_sessions)
    _check_start(start_on, today=today)

    context = planning_context(patient=patient, today=today)
    if context.assessment is None or context.screening is None:
        raise SeriesError(
            f"Record a skin assessment for {patient.full_name} before planning a series: "
            "suitability and the number of sessions come from it."
        )
    override_reason = override_reason.strip()
    if context.needs_override:
        reasons = " ".join(context.screening.reasons)
        if not override_reason:
            raise SuitabilityRefused(
                f"Not suitable at the latest assessment: {reasons} A practitioner can plan "
                "the series only by recording why it is safe to go ahead.",
                screening=context.screening,
            )
        if not has_role(by, Role.PRACTITIONER):
            raise SuitabilityRefused(
                f"Not suitable at the latest assessment: {reasons} Only a practitioner can "
                "override this.",
                screening=context.screening,
            )
    else:
        override_reason = ""

    duplicate = (
        TreatmentSeries.objects.filter(
            patient=patient, treatment_type=treatment_type, status__in=OPEN_SERIES_STATUSES
        )
        .order_by("-start_on")
        .first()
    )
    if duplicate is not None:
        raise SeriesError(
            f"{patient.full_name} already has a {duplicate.get_status_display().lower()} "
            f"series of {treatment_type.name} (from "
            f"{plain_date(duplicate.start_on)}). Continue or stop that one "
            "first.",
            field="treatment_type",
        )
    series = TreatmentSeries.objects.create(
        patient=patient,
        treatment_type=treatment_type,
        planned_by=planned_by,
        assessment=context.assessment,
        targeted_concerns=concerns,
        planned_sessions=planned_sessions,
        start_on=start_on,
        status=SeriesStatus.PLANNED,
        suitability_override_reason=override_reason,
        screening_outcome=context.screening.outcome,
        created_by=by,
    )
    audit.record(action=AuditAction.CREATE, obj=series, after=audit.snapshot(series))
    return series


def _locked(series: TreatmentSeries) -> TreatmentSeries:
    return (
        TreatmentSeries.objects.select_for_update()
        .select_related("patient", "treatment_type")
        .get(pk=series.pk)
    )


@transaction.atomic(durable=True)
def series_update_plan(
    *,
    series: TreatmentSeries,
    planned_sessions: int,
    targeted_concerns: Iterable[str],
    start_on: date,
    today: date,
) -> TreatmentSeries:
    """Change the plan: number of sessions, targeted concerns, and the start while nothing
    is done yet.

    Invariants: never fewer planned sessions than are signed; a series whose plan is now
    fully done becomes completed, and a completed one given more sessions is active again.
    """
    series = _locked(series)
    before = audit.snapshot(series)
    if series.status in (SeriesStatus.STOPPED, SeriesStatus.MAINTENANCE):
        raise SeriesError(
            f"A {series.get_status_display().lower()} series cannot be re-planned; plan a "
            "new series instead."
        )
    concerns = _clean_concerns(targeted_concerns)
    _check_planned_sessions(planned_sessions, at_least=max(1, series.completed_sessions))
    if start_on != series.start_on:
        if series.completed_sessions or series.sessions.exists():
            raise SeriesError(
                "The start date cannot change once a session is logged.", field="start_on"
            )
        _check_start(start_on, today=today)
    series.planned_sessions = planned_sessions
    series.targeted_concerns = concerns
    series.start_on = start_on
    if series.completed_sessions >= planned_sessions and series.status == SeriesStatus.ACTIVE:
        series.status = SeriesStatus.COMPLETED
    elif series.completed_sessions < planned_sessions and series.status == SeriesStatus.COMPLETED:
        series.status = SeriesStatus.ACTIVE
    series.save(update_fields=["planned_sessions", "targeted_concerns", "start_on", "status"])
    audit.record(action=AuditAction.CHANGE, obj=series, before=before, after=audit.snapshot(series))
    return series


@transaction.atomic(durable=True)
def series_stop(*, series: TreatmentSeries, reason: str, by: Any, now: datetime) -> TreatmentSeries:
    """Stop a series at any stage, with a reason. A session logged but not signed must be
    signed or discarded first, so no half-finished clinical record is left behind."""
    series = _locked(series)
    reason = reason.strip()
    if series.status == SeriesStatus.STOPPED:
        raise SeriesError("This series is already stopped.")
    if not reason:
        raise SeriesError("Give the reason for stopping the series.", field="reason")
    draft = series.sessions.filter(signed_at__isnull=True).first()
    if draft is not None:
        raise SeriesError(
            f"Session {draft.number} is logged but not signed: sign or discard it before "
            "stopping the series."
        )
    before = audit.snapshot(series)
    series.status = SeriesStatus.STOPPED
    series.stop_reason = reason[:300]
    series.stopped_at = now
    series.stopped_by = by
    series.save(update_fields=["status", "stop_reason", "stopped_at", "stopped_by"])
    audit.record(action=AuditAction.CHANGE, obj=series, before=before, after=audit.snapshot(series))
    return series


@transaction.atomic(durable=True)
def series_start_maintenance(*, series: TreatmentSeries) -> TreatmentSeries:
    """Move a completed series on to maintenance sessions."""
    series = _locked(series)
    if series.status != SeriesStatus.COMPLETED:
        raise SeriesError(
            "Only a completed series moves on to maintenance; this one is "
            f"{series.get_status_display().lower()}."
        )
    series.status = SeriesStatus.MAINTENANCE
    series.save(update_fields=["status"])
    audit.record(
        action=AuditAction.CHANGE,
        obj=series,
        before={"status": SeriesStatus.COMPLETED},
        after={"status": series.status},
    )
    return series
