"""Recording, signing and amending skin assessments, and the patient's badge that follows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, transaction

from clinic.models import Patient
from tests.builders import assess, assessment_details
from tests.factories import PractitionerFactory, UserFactory
from treatments import rules
from treatments.models import Amendment, SkinAssessment
from treatments.services.assessments import (
    AlreadySigned,
    AssessmentError,
    NotAPractitioner,
    NothingToAmend,
    NotSigned,
    NotTheAuthor,
    assessment_amend,
    assessment_record,
    assessment_sign,
    assessment_update_draft,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 11, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def frozen_clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def test_recording_with_rosacea_ticked_stores_not_suitable_and_updates_the_badge(
    patient: Any, practitioner: Any
):
    assessment = assess(patient, by=practitioner.user, contraindications={"rosacea"})

    assert assessment.practitioner == practitioner
    assert assessment.outcome == "not_suitable"
    assert assessment.outcome_summary == "Not suitable: rosacea"
    assert assessment.signed_by == practitioner.user
    assert assessment.signed_at == NOW
    patient.refresh_from_db()
    assert patient.suitability == "not_suitable"
    assert patient.suitability_summary == "Not suitable: rosacea"
    assert patient.suitability_reasons == ["Rosacea: exfoliation inflames it; do not treat."]
    assert patient.assessed_on == TODAY


def test_a_draft_is_unsigned_and_already_sets_the_badge(patient: Any, practitioner: Any):
    assessment = assess(patient, by=practitioner.user, sign=False, skin_type="sensitive")

    assert assessment.signed_at is None
    assert assessment.signed_by is None
    patient.refresh_from_db()
    assert patient.suitability == "caution"
    assert patient.suitability_summary == "Caution: sensitive skin"


@pytest.mark.parametrize("role_user", ["receptionist", "manager"])
def test_only_a_user_linked_to_a_practitioner_can_record(
    patient: Any, role_user: str, request: Any
):
    user = request.getfixturevalue(role_user)

    with pytest.raises(NotAPractitioner, match="not linked to a practitioner"):
        assess(patient, by=user)

    assert SkinAssessment.objects.count() == 0


def test_an_inactive_practitioner_is_told_their_profile_is_inactive(
    patient: Any, practitioner: Any
):
    practitioner.is_active = False
    practitioner.save()

    with pytest.raises(NotAPractitioner, match="marked inactive"):
        assess(patient, by=practitioner.user)


def test_a_manager_linked_to_a_practitioner_records_like_a_practitioner(patient: Any, manager: Any):
    PractitionerFactory(display_name="Malcolm Reyes", user=manager)

    assessment = assess(patient, by=manager)

    assert assessment.practitioner.display_name == "Malcolm Reyes"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"assessed_on": TODAY + dt.timedelta(days=1)}, "assessed_on", "in the future"),
        ({"assessed_on": dt.date(1900, 1, 1)}, "assessed_on", "before the patient's date"),
        ({"surgery_on": TODAY + dt.timedelta(days=3)}, "surgery_on", "after the assessment"),
        (
            {"contraindications": {"other"}, "other_contraindication": "  "},
            "other_contraindication",
            "Describe the other",
        ),
    ],
    ids=["future", "before-birth", "surgery-after-assessment", "other-without-details"],
)
def test_impossible_dates_and_empty_other_are_refused(
    patient: Any, practitioner: Any, changes: dict[str, Any], field: str, message: str
):
    with pytest.raises(AssessmentError, match=message) as refused:
        assess(patient, by=practitioner.user, **changes)

    assert refused.value.field == field


def test_an_archived_patient_must_be_unarchived_first(patient: Any, practitioner: Any):
    Patient.objects.filter(pk=patient.pk).update(is_active=False)

    with pytest.raises(AssessmentError, match="Unarchive the patient"):
        assess(patient, by=practitioner.user)


def test_the_badge_follows_the_latest_assessment_by_date_not_by_entry_order(
    patient: Any, practitioner: Any
):
    assess(patient, by=practitioner.user, skin_type="sensitive")
    # Entered afterwards, but from a consultation two months earlier.
    assess(
        patient,
        by=practitioner.user,
        assessed_on=TODAY - dt.timedelta(days=60),
        contraindications={"eczema"},
    )

    patient.refresh_from_db()
    assert patient.suitability_summary == "Caution: sensitive skin"
    assert patient.assessed_on == TODAY


def test_the_screening_is_as_of_the_assessment_date(patient: Any, practitioner: Any):
    # Surgery 5 months before the assessment: recent at the time, whatever today is.
    assessment = assess(
        patient,
        by=practitioner.user,
        assessed_on=dt.date(2025, 10, 1),
        contraindications={"recent_surgery"},
        surgery_on=dt.date(2025, 5, 1),
    )

    assert assessment.outcome == "not_suitable"


# --- Drafts and signing ---------------------------------------------------------------------


def test_the_author_edits_a_draft_and_signs_it(patient: Any, practitioner: Any):
    draft = assess(patient, by=practitioner.user, sign=False)

    updated = assessment_update_draft(
        assessment=draft,
        user=practitioner.user,
        details=assessment_details(fitzpatrick=5),
        sign=False,
    )
    assert updated.outcome_summary == "Caution: Fitzpatrick V"
    assert updated.signed_at is None

    signed = assessment_sign(assessment=updated, user=practitioner.user)
    assert signed.signed_by == practitioner.user
    patient.refresh_from_db()
    assert patient.suitability_summary == "Caution: Fitzpatrick V"


def test_another_practitioner_cannot_edit_or_sign_someone_elses_draft(
    patient: Any, practitioner: Any, second_practitioner: Any
):
    draft = assess(patient, by=practitioner.user, sign=False)

    with pytest.raises(NotTheAuthor, match="Only Amara Okafor"):
        assessment_sign(assessment=draft, user=second_practitioner.user)
    with pytest.raises(NotTheAuthor):
        assessment_update_draft(
            assessment=draft,
            user=second_practitioner.user,
            details=assessment_details(),
            sign=True,
        )

    draft.refresh_from_db()
    assert draft.signed_at is None


def test_a_signed_assessment_cannot_be_signed_again_or_edited_as_a_draft(
    patient: Any, practitioner: Any
):
    signed = assess(patient, by=practitioner.user)

    with pytest.raises(AlreadySigned):
        assessment_sign(assessment=signed, user=practitioner.user)
    with pytest.raises(AlreadySigned, match="amend it instead"):
        assessment_update_draft(
            assessment=signed, user=practitioner.user, details=assessment_details(), sign=False
        )


# --- Amendments -------------------------------------------------------------------------------


def test_an_amendment_records_who_why_and_each_change_and_updates_the_screening(
    patient: Any, practitioner: Any, second_practitioner: Any
):
    signed = assess(patient, by=practitioner.user, allergies="")

    amendment = assessment_amend(
        assessment=signed,
        user=second_practitioner.user,
        details=assessment_details(contraindications={"eczema"}, allergies="Lanolin"),
        reason="Patient rang to say she has eczema and a lanolin allergy.",
    )

    assert amendment.amended_by == second_practitioner.user
    assert amendment.reason == "Patient rang to say she has eczema and a lanolin allergy."
    assert amendment.changes == {
        "contraindications": {"before": [], "after": ["eczema"]},
        "allergies": {"before": "", "after": "Lanolin"},
        "outcome": {"before": "Suitable", "after": "Not suitable: eczema"},
    }
    signed.refresh_from_db()
    assert signed.contraindications == ["eczema"]
    assert signed.amendment_count == 1
    assert signed.signed_by == practitioner.user
    patient.refresh_from_db()
    assert patient.suitability_summary == "Not suitable: eczema"


def test_an_amendment_needs_a_reason(patient: Any, practitioner: Any):
    signed = assess(patient, by=practitioner.user)

    with pytest.raises(AssessmentError, match="Say why") as refused:
        assessment_amend(
            assessment=signed,
            user=practitioner.user,
            details=assessment_details(fitzpatrick=4),
            reason="   ",
        )

    assert refused.value.field == "reason"
    assert Amendment.objects.count() == 0


def test_an_amendment_that_changes_nothing_is_refused(patient: Any, practitioner: Any):
    signed = assess(patient, by=practitioner.user)

    with pytest.raises(NothingToAmend):
        assessment_amend(
            assessment=signed,
            user=practitioner.user,
            details=assessment_details(),
            reason="Checking",
        )


def test_a_draft_is_edited_not_amended(patient: Any, practitioner: Any):
    draft = assess(patient, by=practitioner.user, sign=False)

    with pytest.raises(NotSigned):
        assessment_amend(
            assessment=draft,
            user=practitioner.user,
            details=assessment_details(fitzpatrick=4),
            reason="Typo",
        )


def test_a_receptionist_cannot_amend(patient: Any, practitioner: Any, receptionist: Any):
    signed = assess(patient, by=practitioner.user)

    with pytest.raises(NotAPractitioner):
        assessment_amend(
            assessment=signed,
            user=receptionist,
            details=assessment_details(fitzpatrick=4),
            reason="Typo",
        )


def test_the_database_refuses_a_silent_change_to_a_signed_assessment(
    patient: Any, practitioner: Any
):
    signed = assess(patient, by=practitioner.user)

    with pytest.raises(IntegrityError), transaction.atomic():
        SkinAssessment.objects.filter(pk=signed.pk).update(notes="changed behind the trail")

    signed.refresh_from_db()
    assert signed.notes == ""


def test_the_database_allows_drafts_to_change(patient: Any, practitioner: Any):
    draft = assess(patient, by=practitioner.user, sign=False)

    SkinAssessment.objects.filter(pk=draft.pk).update(notes="still a draft")

    draft.refresh_from_db()
    assert draft.notes == "still a draft"


def test_signing_needs_both_a_time_and_a_signer(patient: Any, practitioner: Any):
    with pytest.raises(IntegrityError), transaction.atomic():
        SkinAssessment.objects.create(
            patient=patient,
            practitioner=practitioner,
            assessed_on=TODAY,
            fitzpatrick=2,
            skin_type="normal",
            signed_at=NOW,
        )


def test_the_patient_badge_and_the_rules_agree_on_when_reassessment_is_due(
    patient: Any, practitioner: Any, settings: Any
):
    for age_days, due in [(settings.REASSESSMENT_AFTER_DAYS, False), (184, True)]:
        Patient.objects.filter(pk=patient.pk).update(
            assessed_on=TODAY - dt.timedelta(days=age_days)
        )
        patient.refresh_from_db()
        assert patient.is_reassessment_due(TODAY) is due
        assert (
            rules.reassessment_due(
                assessed_on=patient.assessed_on,
                today=TODAY,
                max_age_days=settings.REASSESSMENT_AFTER_DAYS,
            )
            is due
        )


def test_recording_is_written_to_the_audit_trail(patient: Any, practitioner: Any):
    from clinic.models import AuditEntry

    assessment = assess(patient, by=practitioner.user)

    actions = list(
        AuditEntry.objects.filter(
            object_type="treatments.skinassessment", object_id=str(assessment.pk)
        )
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "sign"]


def test_a_user_with_no_practitioner_row_is_named_in_the_refusal(patient: Any):
    user = UserFactory(username="temp", role="practitioner")

    with pytest.raises(NotAPractitioner, match="ask a clinic manager to link"):
        assessment_record(patient=patient, user=user, details=assessment_details(), sign=True)
