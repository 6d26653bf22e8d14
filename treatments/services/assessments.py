"""Recording, signing and amending skin assessments.

The invariants these functions protect:

- An assessment is recorded by a practitioner: a signed-in user linked to an active
  ``Practitioner`` row. Its screening outcome is computed by ``treatments.rules`` from the
  recorded facts, as of the assessment date, and stored with it.
- A draft may be edited or signed only by the practitioner who recorded it.
- A signed assessment never changes silently: every change is an :class:`Amendment` saying
  who, when, why and each field's value before and after, made in the same transaction
  (and a database trigger refuses any other update of a signed row).
- The patient's badge (``Patient.suitability`` and friends) always shows the screening of
  their latest assessment (latest ``assessed_on``, then latest recorded), signed or not: a
  contraindication noted in a draft is still a contraindication.

Each function is one transaction and locks the patient row first, so two practitioners
saving assessments for the same patient at once cannot leave the badge on the older one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinic import audit, clock
from clinic.errors import FORBIDDEN
from clinic.formats import long_date
from clinic.models import AuditAction, Patient, Practitioner
from clinic.roles import Role, has_role
from treatments import rules
from treatments.choices import Contraindication, Suitability
from treatments.models import Amendment, SkinAssessment


class AssessmentError(rules.DomainError):
    """An assessment change the rules refuse. ``field`` names the form field to blame."""

    code = "assessment_refused"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotAPractitioner(AssessmentError):
    """The user is not linked to an active practitioner, so cannot record or sign."""

    code = "not_a_practitioner"
    http_status = FORBIDDEN


class NotTheAuthor(AssessmentError):
    """Only the practitioner who recorded a draft may edit or sign it."""

    code = "not_the_author"
    http_status = FORBIDDEN


class AlreadySigned(AssessmentError):
    """A signed assessment is only ever amended."""

    code = "already_signed"


class NotSigned(AssessmentError):
    """Amendments are for signed assessments; a draft is simply edited."""

    code = "not_signed"


class NothingToAmend(AssessmentError):
    """An amendment that changes nothing would be noise in the record."""

    code = "nothing_to_amend"


@dataclass(frozen=True)
class AssessmentDetails:
    """What a practitioner records at a skin assessment (everything on the form)."""

    assessed_on: dt.date
    fitzpatrick: int
    skin_type: str
    concerns: Mapping[str, str]
    scar_type: str
    contraindications: frozenset[str]
    surgery_on: dt.date | None = None
    other_contraindication: str = ""
    medications: str = ""
    allergies: str = ""
    notes: str = ""

    def facts(self) -> rules.AssessmentFacts:
        return rules.AssessmentFacts(
            assessed_on=self.assessed_on,
            fitzpatrick=self.fitzpatrick,
            skin_type=self.skin_type,
            concerns=self.concerns,
            scar_type=self.scar_type,
            contraindications=self.contraindications,
            surgery_on=self.surgery_on,
            other_contraindication=self.other_contraindication,
        )

    @classmethod
    def of(cls, assessment: SkinAssessment) -> AssessmentDetails:
        values = {field.name: getattr(assessment, field.name) for field in fields(cls)}
        values["concerns"] = dict(assessment.concerns)
        values["contraindications"] = frozenset(assessment.contraindications)
        return cls(**values)

    def stored(self) -> dict[str, Any]:
        """The model field values (JSON fields as dict and sorted list)."""
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        values["concerns"] = {concern: self.concerns[concern] for concern in sorted(self.concerns)}
        values["contraindications"] = sorted(self.contraindications)
        for name in ("other_contraindication", "medications", "allergies", "notes"):
            values[name] = values[name].strip()
        return values


DETAIL_FIELDS = tuple(field.name for field in fields(AssessmentDetails))


def practitioner_of(user: Any) -> Practitioner | None:
    """The active practitioner a user records as, or ``None``."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Practitioner.objects.filter(user=user, is_active=True).first()


def not_a_practitioner_message(user: Any) -> str:
    if Practitioner.objects.filter(user=user, is_active=False).exists():
        return (
            "Your practitioner profile is marked inactive, so you cannot record, sign or "
            "amend assessments. Ask a clinic manager to reactivate it."
        )
    if has_role(user, Role.MANAGER):
        how = (
            "to record them yourself, link your account to a practitioner in Admin, "
            "Practitioners (choose your user on the practitioner)."
        )
    else:
        how = (
            "to record them, ask a clinic manager to link your account to a practitioner "
            "(Admin, Practitioners)."
        )
    return (
        "Only practitioners record, sign and amend skin assessments, and your account is not "
        f"linked to a practitioner. You can read assessments; {how}"
    )


def _require_practitioner(user: Any) -> Practitioner:
    practitioner = practitioner_of(user)
    if practitioner is None:
        raise NotAPractitioner(not_a_practitioner_message(user))
    return practitioner


def _check_details(details: AssessmentDetails, *, patient: Patient, today: dt.date) -> None:
    if details.assessed_on > today:
        raise AssessmentError("An assessment cannot be dated in the future.", field="assessed_on")
    if details.assessed_on < patient.date_of_birth:
        raise AssessmentError(
            "The assessment date is before the patient's date of birth.", field="assessed_on"
        )
    if details.surgery_on is not None:
        if details.surgery_on > details.assessed_on:
            raise AssessmentError(
                "The surgery date is after the assessment date. Note planned surgery under Other.",
                field="surgery_on",
            )
        if details.surgery_on < patient.date_of_birth:
            raise AssessmentError(
                "The surgery date is before the patient's date of birth.", field="surgery_on"
            )
    if (
        Contraindication.OTHER in details.contraindications
        and not details.other_contraindication.strip()
    ):
        raise AssessmentError(
            "Describe the other contraindication you ticked.", field="other_contraindication"
        )
    try:
        details.facts()
    except ValueError as error:
        raise AssessmentError(str(error)) from None


def screen(details: AssessmentDetails) -> rules.Screening:
    """The recorded verdict: the rules applied as of the assessment date."""
    return rules.screen_assessment(details.facts(), today=details.assessed_on)


def _lock_patient(patient_id: int) -> Patient:
    return Patient.objects.select_for_update().get(pk=patient_id)


def _refresh_patient_badge(patient: Patient) -> None:
    """Copy the latest assessment's screening onto the patient row (the list badge)."""
    latest = (
        SkinAssessment.objects.filter(patient_id=patient.pk).order_by("-assessed_on", "-id").first()
    )
    if latest is None:
        badge: dict[str, Any] = {
            "suitability": Suitability.UNKNOWN,
            "suitability_summary": "",
            "suitability_reasons": [],
            "assessed_on": None,
        }
    else:
        screening = screen(AssessmentDetails.of(latest))
        badge = {
            "suitability": screening.outcome,
            "suitability_summary": screening.summary,
            "suitability_reasons": list(screening.reasons),
            "assessed_on": latest.assessed_on,
        }
    for name, value in badge.items():
        setattr(patient, name, value)
    # save(), not update(): the badge shows on calendar cards, whose cache listens for saves.
    patient.save(update_fields=list(badge))


def _require_author(assessment: SkinAssessment, user: Any, doing: str) -> None:
    practitioner = _require_practitioner(user)
    if assessment.practitioner_id != practitioner.pk:
        raise NotTheAuthor(
            f"Only {assessment.practitioner}, who recorded this draft, can {doing} it. "
            "Ask them to, or record a new assessment yourself."
        )


def _sign(assessment: SkinAssessment, *, user: Any, now: dt.datetime) -> None:
    assessment.signed_at = now
    assessment.signed_by = user


@transaction.atomic(durable=True)
def assessment_record(
    *,
    patient: Patient,
    user: Any,
    details: AssessmentDetails,
    sign: bool,
    now: dt.datetime | None = None,
) -> SkinAssessment:
    """Record an assessment by the user's practitioner, screened, as a draft or signed."""
    now = now or timezone.now()
    practitioner = _require_practitioner(user)
    patient = _lock_patient(patient.pk)
    if not patient.is_active:
        raise AssessmentError(
            f"{patient} is archived. Unarchive the patient before recording an assessment."
        )
    _check_details(details, patient=patient, today=clock.today(now))
    screening = screen(details)
    assessment = SkinAssessment(
        patient=patient,
        practitioner=practitioner,
        outcome=screening.outcome,
        outcome_summary=screening.summary,
        **details.stored(),
    )
    if sign:
        _sign(assessment, user=user, now=now)
    assessment.save()
    audit.record(action=AuditAction.CREATE, obj=assessment, after=audit.snapshot(assessment))
    if sign:
        audit.record(action=AuditAction.SIGN, obj=assessment, detail=assessment.outcome_summary)
    _refresh_patient_badge(patient)
    return assessment


@transaction.atomic(durable=True)
def assessment_update_draft(
    *,
    assessment: SkinAssessment,
    user: Any,
    details: AssessmentDetails,
    sign: bool,
    now: dt.datetime | None = None,
) -> SkinAssessment:
    """Change a draft (its author only), optionally signing it in the same step."""
    now = now or timezone.now()
    patient = _lock_patient(assessment.patient_id)
    assessment = SkinAssessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.signed_at is not None:
        raise AlreadySigned("This assessment is already signed: amend it instead, with a reason.")
    _require_author(assessment, user, "edit")
    _check_details(details, patient=patient, today=clock.today(now))
    screening = screen(details)
    before = audit.snapshot(assessment)
    for name, value in details.stored().items():
        setattr(assessment, name, value)
    assessment.outcome = screening.outcome
    assessment.outcome_summary = screening.summary
    if sign:
        _sign(assessment, user=user, now=now)
    assessment.save()
    audit.record(
        action=AuditAction.CHANGE,
        obj=assessment,
        before=before,
        after=audit.snapshot(assessment),
        detail="Draft edited",
    )
    if sign:
        audit.record(action=AuditAction.SIGN, obj=assessment, detail=assessment.outcome_summary)
    _refresh_patient_badge(patient)
    return assessment


@transaction.atomic(durable=True)
def assessment_sign(
    *, assessment: SkinAssessment, user: Any, now: dt.datetime | None = None
) -> SkinAssessment:
    """Sign a draft (its author only). From then on it is only ever amended."""
    assessment = SkinAssessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.signed_at is not None:
        raise AlreadySigned(
            f"This assessment was already signed on {long_date(assessment.signed_at)}."
        )
    _require_author(assessment, user, "sign")
    _sign(assessment, user=user, now=now or timezone.now())
    assessment.save(update_fields=["signed_at", "signed_by"])
    audit.record(action=AuditAction.SIGN, obj=assessment, detail=assessment.outcome_summary)
    return assessment


def _as_json(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@transaction.atomic(durable=True)
def assessment_amend(
    *,
    assessment: SkinAssessment,
    user: Any,
    details: AssessmentDetails,
    reason: str,
    now: dt.datetime | None = None,
) -> Amendment:
    """Change a signed assessment with a recorded reason; the screening follows.

    Any active practitioner may amend (a colleague adds an allergy the patient mentions
    later); the amendment names them. The before/after values of every changed field,
    and of the screening outcome, are kept in the amendment, so the original stays readable.
    """
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise AssessmentError("Say why you are amending a signed assessment.", field="reason")
    _require_practitioner(user)
    patient = _lock_patient(assessment.patient_id)
    assessment = SkinAssessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.signed_at is None:
        raise NotSigned("This assessment is a draft: edit it instead of amending it.")
    _check_details(details, patient=patient, today=clock.today(now))
    before = AssessmentDetails.of(assessment).stored()
    after = details.stored()
    changes = {
        name: {"before": _as_json(before[name]), "after": _as_json(after[name])}
        for name in DETAIL_FIELDS
        if before[name] != after[name]
    }
    if not changes:
        raise NothingToAmend(
            "Nothing was changed. Change at least one field, or cancel.", field=None
        )
    screening = screen(details)
    if screening.outcome != assessment.outcome or screening.summary != assessment.outcome_summary:
        changes["outcome"] = {
            "before": assessment.outcome_summary or assessment.get_outcome_display(),
            "after": screening.summary,
        }
    for name, value in after.items():
        setattr(assessment, name, value)
    assessment.outcome = screening.outcome
    assessment.outcome_summary = screening.summary
    # The trigger lets a signed row change only when its count moves to the number of an
    # amendment written for it in this transaction (the row lock above serialises amenders).
    amendment = Amendment.objects.create(
        assessment=assessment,
        amended_by=user,
        reason=reason,
        changes=changes,
        sequence=assessment.amendment_count + 1,
    )
    assessment.amendment_count = amendment.sequence
    assessment.save(update_fields=[*DETAIL_FIELDS, "outcome", "outcome_summary", "amendment_count"])
    audit.record(
        action=AuditAction.AMEND,
        obj=assessment,
        before={name: change["before"] for name, change in changes.items()},
        after={name: change["after"] for name, change in changes.items()},
        detail=reason,
    )
    _refresh_patient_badge(patient)
    return amendment
