"""Writes to patient records: create, update, archive, unarchive.

Every write goes through here so ``Patient.search_text`` and the stored phone form are
always right: the search finds exactly what the record says.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields, replace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction

from clinic import audit, clock
from clinic.errors import BAD_INPUT, DomainError
from clinic.models import AuditAction, Patient, Practitioner, PreferredContact
from clinic.phones import InvalidPhoneNumber, can_receive_texts, normalise_phone

# Nobody alive was born more than this many years ago: an older date is a typo.
OLDEST_AGE_YEARS = 120


class InvalidPatientDetails(DomainError, ValueError):
    """Details a patient record cannot hold. ``field`` names the form field to blame; the API
    answers 400 with ``errors`` by field, like any bad input."""

    code = "invalid_patient_details"
    http_status = BAD_INPUT
    data_fields = ("errors",)

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.errors = {field: [message]}


class PatientErased(DomainError, ValueError):
    """The patient's identity was erased (GDPR): the record is never filled in again."""

    code = "patient_erased"
    message = (
        "This patient's personal details were erased at their request, so the record can no "
        "longer be edited or brought back to the patient list."
    )

    def __init__(self) -> None:
        super().__init__(self.message)


def _refuse_erased(patient: Patient) -> None:
    if patient.erased_at is not None:
        raise PatientErased


@dataclass(frozen=True)
class PatientDetails:
    """Everything staff type on the patient form."""

    given_name: str
    family_name: str
    date_of_birth: dt.date
    email: str = ""
    phone: str = ""
    preferred_contact: str = PreferredContact.EMAIL
    # Consent is given, never assumed: unticked unless the patient agreed.
    email_reminders: bool = False
    followup_opt_out: bool = False
    notes: str = ""

    @classmethod
    def of(cls, patient: Patient) -> PatientDetails:
        return cls(**{field.name: getattr(patient, field.name) for field in fields(cls)})


DETAIL_FIELDS = tuple(field.name for field in fields(PatientDetails))


def date_of_birth_problem(born: dt.date, *, today: dt.date) -> str:
    """Why a date of birth cannot be right, or "" when it can."""
    if born > today:
        return "The date of birth cannot be in the future."
    if today.year - born.year > OLDEST_AGE_YEARS:
        return (
            f"A date of birth more than {OLDEST_AGE_YEARS} years ago cannot be right; "
            "check the year."
        )
    return ""


def normalise_details(details: PatientDetails, *, today: dt.date) -> PatientDetails:
    """Trimmed names, a lower-case email and an E.164 phone, or :class:`InvalidPatientDetails`."""
    given_name = " ".join(details.given_name.split())
    family_name = " ".join(details.family_name.split())
    if not given_name:
        raise InvalidPatientDetails("given_name", "Enter the patient's given (first) name.")
    if not family_name:
        raise InvalidPatientDetails("family_name", "Enter the patient's family name.")
    problem = date_of_birth_problem(details.date_of_birth, today=today)
    if problem:
        raise InvalidPatientDetails("date_of_birth", problem)
    email = details.email.strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidPatientDetails(
                "email", f"{details.email.strip()} is not an email address."
            ) from None
    try:
        phone = normalise_phone(details.phone, region=settings.CLINIC_PHONE_REGION)
    except InvalidPhoneNumber as error:
        raise InvalidPatientDetails("phone", error.message) from None
    if details.preferred_contact not in PreferredContact.values:
        raise InvalidPatientDetails("preferred_contact", "Choose how the patient prefers contact.")
    if details.preferred_contact == PreferredContact.EMAIL and not email:
        raise InvalidPatientDetails(
            "email", "The patient prefers email: enter an email address or change the preference."
        )
    if details.preferred_contact in {PreferredContact.PHONE, PreferredContact.SMS} and not phone:
        raise InvalidPatientDetails(
            "phone", "The patient prefers phone or text: enter a phone number."
        )
    if details.preferred_contact == PreferredContact.SMS and not can_receive_texts(
        phone, region=settings.CLINIC_PHONE_REGION
    ):
        raise InvalidPatientDetails(
            "phone",
            "This looks like a landline, which cannot receive text messages: enter a mobile "
            "number or choose another way to contact the patient.",
        )
    return PatientDetails(
        given_name=given_name,
        family_name=family_name,
        date_of_birth=details.date_of_birth,
        email=email,
        phone=phone,
        preferred_contact=details.preferred_contact,
        email_reminders=details.email_reminders,
        followup_opt_out=details.followup_opt_out,
        notes=details.notes.strip(),
    )


def _apply(patient: Patient, details: PatientDetails) -> None:
    for name in DETAIL_FIELDS:
        setattr(patient, name, getattr(details, name))
    patient.refresh_search_text()


@transaction.atomic(durable=True)
def patient_create(*, details: PatientDetails, today: dt.date | None = None) -> Patient:
    """Create a patient with normalised contact details and a matching ``search_text``.

    Possible duplicates are the caller's business (``selectors.possible_duplicates``): staff
    may knowingly register two people with the same name and birthday.
    """
    clean = normalise_details(details, today=today or clock.today())
    patient = Patient()
    _apply(patient, clean)
    patient.save()
    audit.record(action=AuditAction.CREATE, obj=patient, after=audit.snapshot(patient))
    return patient


@transaction.atomic(durable=True)
def patient_update(
    *, patient: Patient, details: PatientDetails, today: dt.date | None = None
) -> Patient:
    """Change a patient's details; ``search_text`` follows in the same write.

    Only the fields on the form and the search text are written, so a badge the assessment
    services set while the form was open is never overwritten with a stale value.
    """
    _refuse_erased(patient)
    clean = normalise_details(details, today=today or clock.today())
    # Consent has its own service (audited as such); this write leaves it as it is.
    clean = replace(
        clean, email_reminders=patient.email_reminders, followup_opt_out=patient.followup_opt_out
    )
    other_fields = [name for name in DETAIL_FIELDS if name not in CONSENT_FIELDS]
    before = audit.snapshot(patient, other_fields)
    _apply(patient, clean)
    patient.save(update_fields=[*other_fields, "search_text", "updated_at"])
    audit.record(
        action=AuditAction.CHANGE,
        obj=patient,
        before=before,
        after=audit.snapshot(patient, other_fields),
    )
    patient_email_consent_set(
        patient=patient,
        reminders=details.email_reminders,
        followups=not details.followup_opt_out,
        source=ConsentSource.STAFF,
    )
    return patient


@transaction.atomic(durable=True)
def patient_archive(*, patient: Patient) -> Patient:
    """Hide a patient from the list and from booking. Nothing is deleted."""
    patient.is_active = False
    patient.save(update_fields=["is_active", "updated_at"])
    audit.record(
        action=AuditAction.CHANGE,
        obj=patient,
        before={"is_active": True},
        after={"is_active": False},
        detail="Archived",
    )
    return patient


@transaction.atomic(durable=True)
def patient_unarchive(*, patient: Patient) -> Patient:
    """Bring an archived patient back to the list (never an erased one)."""
    _refuse_erased(patient)
    patient.is_active = True
    patient.save(update_fields=["is_active", "updated_at"])
    audit.record(
        action=AuditAction.CHANGE,
        obj=patient,
        before={"is_active": False},
        after={"is_active": True},
        detail="Unarchived",
    )
    return patient


class ConsentSource(models.TextChoices):
    """Who changed a patient's email consent: the patient through an email link, or staff."""

    LINK = "link", "the patient, through the email link"
    STAFF = "staff", "staff, on the patient form"


CONSENT_FIELDS = ("email_reminders", "followup_opt_out")


def patient_email_consent_set(
    *,
    patient: Patient,
    reminders: bool | None = None,
    followups: bool | None = None,
    source: str = ConsentSource.STAFF,
) -> Patient:
    """Turn a patient's email consent on or off; ``None`` leaves that part as it is.

    The one place unsubscribe, subscribe-again and the staff form change consent: the patient
    row is locked so a one-click unsubscribe racing a staff edit cannot lose either, and every
    change is audited with who made it (a change that changes nothing records nothing).
    ``reminders`` governs appointment reminders and aftercare; ``followups`` governs follow-up
    and maintenance emails. Booking notices are the record of an arrangement and always go.
    """
    if source not in ConsentSource.values:
        raise ValueError(f"Unknown consent source {source!r}")
    _refuse_erased(patient)
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        before = audit.snapshot(locked, list(CONSENT_FIELDS))
        if reminders is not None:
            locked.email_reminders = reminders
        if followups is not None:
            locked.followup_opt_out = not followups
        after = audit.snapshot(locked, list(CONSENT_FIELDS))
        if after != before:
            locked.save(update_fields=[*CONSENT_FIELDS, "updated_at"])
            audit.record(
                action=AuditAction.CHANGE,
                obj=locked,
                before=before,
                after=after,
                detail=_consent_change_words(before, after, source=source),
            )
    for name in CONSENT_FIELDS:
        setattr(patient, name, getattr(locked, name))
    return locked


def _consent_change_words(before: dict[str, bool], after: dict[str, bool], *, source: str) -> str:
    """``Unsubscribed ...`` / ``Subscribed again ...`` / ``Email consent changed ...`` by whom."""
    wants_before = (before["email_reminders"], not before["followup_opt_out"])
    wants_after = (after["email_reminders"], not after["followup_opt_out"])
    turned_off = any(was and not now for was, now in zip(wants_before, wants_after, strict=True))
    turned_on = any(now and not was for was, now in zip(wants_before, wants_after, strict=True))
    what = "Email consent changed"
    if turned_off and not turned_on:
        what = "Unsubscribed from emails"
    elif turned_on and not turned_off:
        what = "Subscribed to emails again"
    return f"{what} by {ConsentSource(source).label}"


# ---------------------------------------------------------------------------------------------
# Practitioners (configured by managers in the admin: there is no staff page yet)
# ---------------------------------------------------------------------------------------------

PRACTITIONER_FIELDS = ("user", "display_name", "title", "colour", "is_active")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


class InvalidPractitionerDetails(DomainError, ValueError):
    """Details a practitioner record cannot hold. ``errors`` maps fields to messages."""

    code = "invalid_practitioner_details"
    http_status = BAD_INPUT
    data_fields = ("errors",)

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def practitioner_check(*, practitioner: Practitioner) -> None:
    """Raise ``InvalidPractitionerDetails`` unless the row's details can be saved: a name
    (the calendar's column heading) and a ``#rrggbb`` colour (drawn into the calendar)."""
    errors: dict[str, str] = {}
    if not practitioner.display_name.strip():
        errors["display_name"] = "Enter the name the calendar shows."
    if not _COLOUR.fullmatch(practitioner.colour or ""):
        errors["colour"] = "Give the calendar colour as #rrggbb, e.g. #0d6efd."
    if errors:
        raise InvalidPractitionerDetails(errors)


@transaction.atomic
def practitioner_save(*, practitioner: Practitioner) -> Practitioner:
    """Create or change a practitioner after ``practitioner_check``; audited."""
    practitioner.display_name = practitioner.display_name.strip()
    practitioner.title = practitioner.title.strip()
    practitioner_check(practitioner=practitioner)
    before = None
    if practitioner.pk is not None:
        stored = Practitioner.objects.select_for_update().filter(pk=practitioner.pk).first()
        before = audit.snapshot(stored, list(PRACTITIONER_FIELDS)) if stored else None
    practitioner.save()
    audit.record(
        action=AuditAction.CHANGE if before is not None else AuditAction.CREATE,
        obj=practitioner,
        before=before,
        after=audit.snapshot(practitioner, list(PRACTITIONER_FIELDS)),
    )
    return practitioner
