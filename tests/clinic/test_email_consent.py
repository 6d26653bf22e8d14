"""Email consent has one writer: ``clinic.services.patient_email_consent_set``.

The patient's unsubscribe link and the staff patient form both go through it, and every
change is audited with who made it.
"""

from __future__ import annotations

import pytest

from clinic.models import AuditEntry
from clinic.privacy import patient_erase
from clinic.services import (
    ConsentSource,
    PatientDetails,
    PatientErased,
    patient_email_consent_set,
    patient_update,
)

pytestmark = pytest.mark.django_db


def consent(patient):
    patient.refresh_from_db()
    return patient.email_reminders, patient.followup_opt_out


def test_consent_set_changes_only_what_it_is_given_and_is_audited_with_its_source(patient):
    patient_email_consent_set(patient=patient, followups=False, source=ConsentSource.LINK)

    assert consent(patient) == (True, True)
    entry = AuditEntry.objects.filter(patient_id=patient.pk).latest("seq")
    assert entry.detail == "Unsubscribed from emails by the patient, through the email link"
    assert "followup_opt_out" in entry.after
    assert "email_reminders" not in entry.after


def test_subscribing_again_turns_every_consent_back_on(patient):
    patient_email_consent_set(patient=patient, reminders=False, followups=False, source="link")

    patient_email_consent_set(patient=patient, reminders=True, followups=True, source="link")

    assert consent(patient) == (True, False)
    entry = AuditEntry.objects.filter(patient_id=patient.pk).latest("seq")
    assert entry.detail.startswith("Subscribed to emails again")


def test_a_consent_change_that_changes_nothing_records_nothing(patient):
    before = AuditEntry.objects.count()

    patient_email_consent_set(patient=patient, reminders=True, followups=True)

    assert AuditEntry.objects.count() == before


def test_the_staff_patient_form_changes_consent_through_the_consent_service(patient):
    details = PatientDetails.of(patient)
    changed = PatientDetails(**{**details.__dict__, "email_reminders": False})

    patient_update(patient=patient, details=changed)

    assert consent(patient) == (False, False)
    entry = AuditEntry.objects.filter(patient_id=patient.pk).latest("seq")
    assert entry.detail == "Unsubscribed from emails by staff, on the patient form"
    assert entry.after == '{"email_reminders":false}'


def test_an_unknown_consent_source_is_refused(patient):
    with pytest.raises(ValueError, match="Unknown consent source"):
        patient_email_consent_set(patient=patient, reminders=False, source="robot")


def test_an_erased_patient_consent_is_never_turned_back_on(patient):
    patient_erase(patient_id=patient.pk)
    patient.refresh_from_db()

    with pytest.raises(PatientErased):
        patient_email_consent_set(patient=patient, reminders=True, followups=True)
