"""Building series and sessions for tests through the services, so every row keeps the
invariants the app relies on (spacing, one draft, signed counts)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from clinic.models import Patient, Practitioner
from treatments import rules
from treatments.models import SkinAssessment, TreatmentSeries, TreatmentSession, TreatmentType
from treatments.services.series import series_plan
from treatments.services.sessions import SessionRecord, session_log, session_sign

LONDON = ZoneInfo("Europe/London")
CRYSTAL_SETTINGS = {"intensity": 4, "vacuum": 5, "crystal_flow": 3, "passes": 2}


def london(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


def crystal() -> TreatmentType:
    return TreatmentType.objects.get(name="Crystal microdermabrasion")


def assess(
    patient: Patient,
    practitioner: Practitioner,
    *,
    assessed_on: dt.date,
    concerns: dict[str, str] | None = None,
    contraindications: tuple[str, ...] = (),
    fitzpatrick: int = 2,
    skin_type: str = "normal",
    scar_type: str = "none",
) -> SkinAssessment:
    """A signed skin assessment with its screening outcome, as the assessment pages save it."""
    facts = rules.AssessmentFacts(
        assessed_on=assessed_on,
        fitzpatrick=fitzpatrick,
        skin_type=skin_type,
        concerns=concerns if concerns is not None else {"uneven_texture": "moderate"},
        scar_type=scar_type,
        contraindications=frozenset(contraindications),
    )
    screening = rules.screen_assessment(facts, today=assessed_on)
    return SkinAssessment.objects.create(
        patient=patient,
        practitioner=practitioner,
        assessed_on=assessed_on,
        fitzpatrick=fitzpatrick,
        skin_type=skin_type,
        concerns=dict(facts.concerns),
        scar_type=scar_type,
        contraindications=sorted(contraindications),
        outcome=screening.outcome,
        outcome_summary=screening.summary,
        signed_at=dt.datetime.combine(assessed_on, dt.time(9), tzinfo=LONDON),
        signed_by=practitioner.user,
    )


def plan(
    patient: Patient,
    practitioner: Practitioner,
    *,
    start_on: dt.date,
    planned_sessions: int = 6,
    treatment_type: TreatmentType | None = None,
    override_reason: str = "",
    **assessment: Any,
) -> TreatmentSeries:
    """An assessed patient with a planned series (the assessment dated the start day)."""
    if not patient.assessments.exists():
        assess(patient, practitioner, assessed_on=start_on, **assessment)
    return series_plan(
        patient=patient,
        treatment_type=treatment_type or crystal(),
        planned_by=practitioner,
        targeted_concerns=["uneven_texture"],
        planned_sessions=planned_sessions,
        start_on=start_on,
        by=practitioner.user,
        today=start_on,
        override_reason=override_reason,
    )


def record(practitioner: Practitioner, performed_at: dt.datetime, **changes: Any) -> SessionRecord:
    values: dict[str, Any] = {
        "practitioner": practitioner,
        "performed_at": performed_at,
        "areas": ["face"],
        "parameters": dict(CRYSTAL_SETTINGS),
        "duration_minutes": 30,
        "redness": "mild",
        "comfort": 4,
    }
    values.update(changes)
    return SessionRecord(**values)


def log(
    series: TreatmentSeries,
    practitioner: Practitioner,
    performed_at: dt.datetime,
    *,
    override: str = "",
    **changes: Any,
) -> TreatmentSession:
    """Log a session as the practitioner, on the day it happened."""
    return session_log(
        series=series,
        record=record(practitioner, performed_at, **changes),
        by=practitioner.user,
        now=performed_at + dt.timedelta(hours=1),
        spacing_override_reason=override,
    ).session


def log_and_sign(
    series: TreatmentSeries, practitioner: Practitioner, performed_at: dt.datetime, **changes: Any
) -> TreatmentSession:
    session = log(series, practitioner, performed_at, **changes)
    session_sign(session=session, by=practitioner.user, now=performed_at + dt.timedelta(hours=1))
    session.refresh_from_db()
    return session


def sessions_every(
    series: TreatmentSeries,
    practitioner: Practitioner,
    *,
    first: dt.datetime,
    count: int,
    days: int = 21,
) -> list[TreatmentSession]:
    """``count`` signed sessions, ``days`` apart, from ``first`` (clinic-local wall time)."""
    sessions = []
    for index in range(count):
        when = (first.replace(tzinfo=None) + dt.timedelta(days=days * index)).replace(
            tzinfo=first.tzinfo
        )
        sessions.append(log_and_sign(series, practitioner, when))
    return sessions
