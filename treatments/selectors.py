"""Shared reads for skin assessments and screening, each a fixed number of queries.

Contract for the other parts of the app:

- :func:`latest_screening` ``(patient, today=None)`` -> :class:`LatestScreening`: the
  patient's latest assessment (latest ``assessed_on``, then latest recorded; drafts count),
  its screening as recorded (the rules applied as of the assessment date) and whether a
  reassessment is due. One query.
- :func:`latest_screenings` ``(patients, today=None)`` -> ``{patient_id: LatestScreening}``
  for lists, in one query however many patients.
- For a badge only, ``Patient.suitability`` / ``suitability_summary`` /
  ``suitability_reasons`` / ``assessed_on`` (kept by the assessment services) cost no query
  at all with ``select_related("patient")``; ``templates/clinic/_patient_badge.html``
  renders them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import F, Prefetch, QuerySet, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404
from django.urls import reverse

from clinic import clock, timeline
from clinic.formats import plain_date
from clinic.models import Patient
from clinic.roles import can_see_clinical
from treatments import rules
from treatments.choices import (
    Concern,
    Contraindication,
    Fitzpatrick,
    ScarType,
    Severity,
    SkinType,
    Suitability,
)
from treatments.models import Amendment, SkinAssessment, TreatmentType


def assessment_facts(assessment: SkinAssessment) -> rules.AssessmentFacts:
    return rules.AssessmentFacts(
        assessed_on=assessment.assessed_on,
        fitzpatrick=assessment.fitzpatrick,
        skin_type=assessment.skin_type,
        concerns=assessment.concerns,
        scar_type=assessment.scar_type,
        contraindications=frozenset(assessment.contraindications),
        surgery_on=assessment.surgery_on,
        other_contraindication=assessment.other_contraindication,
    )


def recorded_screening(assessment: SkinAssessment) -> rules.Screening:
    """The verdict as recorded: the rules applied as of the assessment date."""
    return rules.screen_assessment(assessment_facts(assessment), today=assessment.assessed_on)


# --------------------------------------------------------------------------------------------
# Latest screening (badges, planning a series, appointment cards)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatestScreening:
    assessment: SkinAssessment | None
    screening: rules.Screening | None
    reassessment_due: bool

    @property
    def outcome(self) -> str:
        return self.screening.outcome if self.screening else Suitability.UNKNOWN

    @property
    def label(self) -> str:
        return str(Suitability(self.outcome).label)

    @property
    def summary(self) -> str:
        return self.screening.summary if self.screening else self.label

    @property
    def signed(self) -> bool:
        return self.assessment is not None and self.assessment.signed_at is not None


def _latest(assessment: SkinAssessment | None, today: dt.date) -> LatestScreening:
    if assessment is None:
        return LatestScreening(assessment=None, screening=None, reassessment_due=False)
    return LatestScreening(
        assessment=assessment,
        screening=recorded_screening(assessment),
        reassessment_due=rules.reassessment_due(
            assessed_on=assessment.assessed_on,
            today=today,
            max_age_days=settings.REASSESSMENT_AFTER_DAYS,
        ),
    )


def latest_screening(patient: Patient, *, today: dt.date | None = None) -> LatestScreening:
    """The patient's latest assessment and its recorded screening (one query)."""
    assessment = (
        SkinAssessment.objects.filter(patient_id=patient.pk)
        .select_related("practitioner")
        .order_by("-assessed_on", "-id")
        .first()
    )
    return _latest(assessment, today or clock.today())


def latest_screenings(
    patients: Iterable[Patient | int], *, today: dt.date | None = None
) -> dict[int, LatestScreening]:
    """``{patient_id: LatestScreening}`` for many patients in one query (window function)."""
    ids = {patient if isinstance(patient, int) else patient.pk for patient in patients}
    today = today or clock.today()
    found: dict[int, SkinAssessment] = {}
    if ids:
        ranked = (
            SkinAssessment.objects.filter(patient_id__in=ids)
            .select_related("practitioner")
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("patient_id")],
                    order_by=[F("assessed_on").desc(), F("id").desc()],
                )
            )
            .filter(rank=1)
        )
        found = {assessment.patient_id: assessment for assessment in ranked}
    return {patient_id: _latest(found.get(patient_id), today) for patient_id in ids}


def suggested_sessions(concerns: Mapping[str, str]) -> list[tuple[TreatmentType, int]]:
    """Each active treatment type with the session count its defaults suggest (one query)."""
    return [
        (
            treatment_type,
            rules.suggested_session_count(
                concerns=concerns, sessions_by_severity=treatment_type.sessions_by_severity
            ),
        )
        for treatment_type in TreatmentType.objects.filter(is_active=True).order_by("name")
    ]


# --------------------------------------------------------------------------------------------
# Reading an assessment: labels, the original as signed, amendments
# --------------------------------------------------------------------------------------------

FIELD_LABELS: dict[str, str] = {
    "assessed_on": "Assessment date",
    "fitzpatrick": "Fitzpatrick type",
    "skin_type": "Skin type",
    "concerns": "Concerns",
    "scar_type": "Scar type",
    "contraindications": "Contraindications",
    "surgery_on": "Facial surgery on",
    "other_contraindication": "Other contraindication",
    "medications": "Medications",
    "allergies": "Allergies",
    "notes": "Notes",
    "outcome": "Screening",
}
RECORD_FIELDS = tuple(name for name in FIELD_LABELS if name != "outcome")


def _date(value: Any) -> dt.date | None:
    if isinstance(value, str) and value:
        return dt.date.fromisoformat(value)
    return value or None


def describe_value(name: str, value: Any) -> str:
    """A recorded value as staff read it ("Fitzpatrick type IV ...", "Rosacea, Eczema")."""
    if name in ("assessed_on", "surgery_on"):
        day = _date(value)
        return plain_date(day) if day else "Not recorded"
    if name == "fitzpatrick":
        return str(Fitzpatrick(int(value)).label) if value else "Not recorded"
    if name == "skin_type":
        return str(SkinType(value).label)
    if name == "scar_type":
        return str(ScarType(value).label)
    if name == "concerns":
        if not value:
            return "None recorded"
        return "; ".join(
            f"{Concern(concern).label} ({Severity(severity).label.lower()})"
            for concern, severity in sorted(value.items(), key=_concern_order)
        )
    if name == "contraindications":
        if not value:
            return "None"
        order = list(Contraindication.values)
        return "; ".join(
            str(Contraindication(item).label) for item in sorted(value, key=order.index)
        )
    text = str(value or "").strip()
    return text or "None recorded"


def _concern_order(item: tuple[str, str]) -> int:
    return list(Concern.values).index(item[0])


@dataclass(frozen=True)
class RecordRow:
    name: str
    label: str
    value: str


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class AmendmentView:
    amendment: Amendment
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class AssessmentPage:
    assessment: SkinAssessment
    screening: rules.Screening
    rows: tuple[RecordRow, ...]
    original_rows: tuple[RecordRow, ...]
    amendments: tuple[AmendmentView, ...]
    suggested: tuple[tuple[TreatmentType, int], ...]
    reassessment_due: bool


def _rows(values: Mapping[str, Any]) -> tuple[RecordRow, ...]:
    return tuple(
        RecordRow(name=name, label=FIELD_LABELS[name], value=describe_value(name, values[name]))
        for name in RECORD_FIELDS
    )


def assessment_for_page(pk: int) -> SkinAssessment:
    """One assessment with its patient, practitioner, signer and amendments (two queries)."""
    return get_object_or_404(
        SkinAssessment.objects.select_related(
            "patient", "practitioner", "signed_by"
        ).prefetch_related(
            Prefetch(
                "amendments",
                queryset=Amendment.objects.select_related("amended_by").order_by(
                    "amended_at", "id"
                ),
            )
        ),
        pk=pk,
    )


def assessment_page(assessment: SkinAssessment, *, today: dt.date | None = None) -> AssessmentPage:
    """Everything the assessment page shows: the record now, the original as signed (when it
    was amended since) and each amendment's changes. One query (the treatment types)."""
    current = {name: getattr(assessment, name) for name in RECORD_FIELDS}
    amendments = list(assessment.amendments.all())
    original = dict(current)
    for amendment in reversed(amendments):
        for name, change in amendment.changes.items():
            if name in original:
                original[name] = change["before"]
    views = tuple(
        AmendmentView(
            amendment=amendment,
            changes=tuple(
                Change(
                    label=FIELD_LABELS.get(name, name),
                    before=_describe_change(name, change["before"]),
                    after=_describe_change(name, change["after"]),
                )
                for name, change in sorted(amendment.changes.items(), key=_field_order)
            ),
        )
        for amendment in amendments
    )
    return AssessmentPage(
        assessment=assessment,
        screening=recorded_screening(assessment),
        rows=_rows(current),
        original_rows=_rows(original) if amendments else (),
        amendments=views,
        suggested=tuple(suggested_sessions(assessment.concerns)),
        reassessment_due=rules.reassessment_due(
            assessed_on=assessment.assessed_on,
            today=today or clock.today(),
            max_age_days=settings.REASSESSMENT_AFTER_DAYS,
        ),
    )


def _field_order(item: tuple[str, Any]) -> int:
    """Form order, the screening last (PostgreSQL's jsonb does not keep key order)."""
    names = list(FIELD_LABELS)
    return names.index(item[0]) if item[0] in names else len(names)


def _describe_change(name: str, value: Any) -> str:
    if name == "outcome":
        return str(value)
    return describe_value(name, value)


def patient_assessments(patient: Patient) -> QuerySet[SkinAssessment]:
    """A patient's assessments, newest first, with practitioner and amendments (2 queries)."""
    return (
        SkinAssessment.objects.filter(patient_id=patient.pk)
        .select_related("practitioner")
        .prefetch_related(
            Prefetch("amendments", queryset=Amendment.objects.select_related("amended_by"))
        )
        .order_by("-assessed_on", "-id")
    )


# --------------------------------------------------------------------------------------------
# The patient page: timeline entries and the "record an assessment" button
# --------------------------------------------------------------------------------------------

OUTCOME_TONES: dict[str, str] = {
    Suitability.SUITABLE: "success",
    Suitability.CAUTION: "warning",
    Suitability.NOT_SUITABLE: "danger",
    Suitability.UNKNOWN: "secondary",
}


def _user_name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user else "someone"


def assessment_timeline_entries(patient: Patient) -> list[timeline.TimelineEntry]:
    """Each assessment (on its date) and each amendment (when it was made). Two queries.

    The title carries only the suitability verdict, which receptionists may see; who
    recorded it, the summary and the link are clinical.
    """
    entries = []
    for assessment in patient_assessments(patient):
        url = reverse("treatments:assessment_detail", args=[assessment.pk])
        state = "" if assessment.signed_at else " (draft, not signed)"
        verdict = Suitability(assessment.outcome).label
        signed = (
            f"signed {plain_date(assessment.signed_at)}"
            if assessment.signed_at
            else "not signed yet"
        )
        entries.append(
            timeline.TimelineEntry(
                at=timeline.at_local_date(assessment.assessed_on),
                date_only=True,
                kind="assessment",
                title=f"Skin assessment{state}: {verdict}",
                detail=f"{assessment.outcome_summary}. By {assessment.practitioner}, {signed}.",
                url=url,
                clinical=True,
                tone=OUTCOME_TONES.get(assessment.outcome, "secondary"),
            )
        )
        for amendment in assessment.amendments.all():
            entries.append(
                timeline.TimelineEntry(
                    at=amendment.amended_at,
                    kind="assessment",
                    title="Skin assessment amended",
                    detail=f"By {_user_name(amendment.amended_by)}: {amendment.reason}",
                    url=url,
                    clinical=True,
                    tone="info",
                )
            )
    return entries


def assessment_actions(patient: Patient, user: Any) -> list[timeline.PatientAction]:
    if not can_see_clinical(user) or not patient.is_active:
        return []
    return [
        timeline.PatientAction(
            label="Record a skin assessment",
            url=reverse("treatments:assessment_create", args=[patient.pk]),
            primary=True,
            order=10,
        )
    ]
