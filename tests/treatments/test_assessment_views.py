"""Assessment pages: each role on each page, recording, drafts, signing and amending, and what
the patient page shows to whom."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic import clock
from tests.builders import assess
from tests.factories import PractitionerFactory, UserFactory
from treatments.models import Amendment, SkinAssessment

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assessment_form(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "assessed_on": clock.today().isoformat(),
        "fitzpatrick": "2",
        "skin_type": "normal",
        "scar_type": "none",
        "concern_dull_rough": "mild",
        "concern_acne_scars": "moderate",
        "contraindications": [],
        "surgery_on": "",
        "other_contraindication": "",
        "medications": "",
        "allergies": "",
        "notes": "",
        "action_sign": "1",
    }
    values.update(changes)
    return values


@pytest.fixture
def signed(patient: Any, practitioner: Any) -> Any:
    return assess(
        patient,
        by=practitioner.user,
        contraindications={"rosacea"},
        concerns={"dull_rough": "mild"},  # as assessment_form() sends without acne scars
    )


# --- Who may open what --------------------------------------------------------------------------


def assessment_urls(patient: Any, assessment: Any) -> list[str]:
    return [
        reverse("treatments:assessment_create", args=[patient.pk]),
        reverse("treatments:assessment_detail", args=[assessment.pk]),
        reverse("treatments:assessment_update", args=[assessment.pk]),
        reverse("treatments:assessment_amend", args=[assessment.pk]),
    ]


def test_receptionists_get_403_on_every_assessment_page(
    patient: Any, signed: Any, receptionist: Any
):
    client = signed_in(receptionist)

    for url in assessment_urls(patient, signed):
        assert client.get(url).status_code == 403, url
    assert (
        client.post(
            reverse("treatments:assessment_create", args=[patient.pk]), assessment_form()
        ).status_code
        == 403
    )
    assert client.post(reverse("treatments:assessment_sign", args=[signed.pk])).status_code == 403
    assert SkinAssessment.objects.count() == 1


def test_anonymous_visitors_are_sent_to_sign_in_from_assessment_pages(patient: Any, signed: Any):
    for url in assessment_urls(patient, signed):
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))


def test_a_user_without_a_role_is_refused_assessment_pages(patient: Any, signed: Any):
    client = signed_in(UserFactory(username="norole"))

    for url in assessment_urls(patient, signed):
        assert client.get(url).status_code == 403, url


def test_practitioners_open_the_record_page_and_the_assessment(
    patient: Any, signed: Any, practitioner: Any
):
    client = signed_in(practitioner.user)

    assert client.get(reverse("treatments:assessment_create", args=[patient.pk])).status_code == 200
    assert client.get(reverse("treatments:assessment_detail", args=[signed.pk])).status_code == 200
    amend = client.get(reverse("treatments:assessment_amend", args=[signed.pk]))
    assert amend.status_code == 200
    assert "Reason for the amendment" in amend.content.decode()


def test_a_manager_without_a_practitioner_profile_reads_but_is_told_why_they_cannot_record(
    patient: Any, signed: Any, manager: Any
):
    client = signed_in(manager)

    detail = client.get(reverse("treatments:assessment_detail", args=[signed.pk]))
    record = client.get(reverse("treatments:assessment_create", args=[patient.pk]))
    posted = client.post(
        reverse("treatments:assessment_create", args=[patient.pk]), assessment_form()
    )

    assert detail.status_code == 200
    assert "Rosacea: exfoliation inflames it" in detail.content.decode()
    assert "not linked to a practitioner" in detail.content.decode()
    assert record.status_code == 403
    assert "not linked to a practitioner" in record.content.decode()
    assert "Admin, Practitioners" in record.content.decode()
    assert posted.status_code == 403
    assert SkinAssessment.objects.count() == 1


def test_a_manager_linked_to_a_practitioner_records_assessments(patient: Any, manager: Any):
    PractitionerFactory(display_name="Malcolm Reyes", user=manager)

    response = signed_in(manager).post(
        reverse("treatments:assessment_create", args=[patient.pk]), assessment_form()
    )

    assert response.status_code == 302
    assert SkinAssessment.objects.get().practitioner.display_name == "Malcolm Reyes"


# --- Recording --------------------------------------------------------------------------------


def test_recording_with_rosacea_shows_not_suitable_with_the_reason_on_the_patient_page(
    patient: Any, practitioner: Any
):
    client = signed_in(practitioner.user)

    response = client.post(
        reverse("treatments:assessment_create", args=[patient.pk]),
        assessment_form(contraindications=["rosacea"]),
        follow=True,
    )

    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("clinic:patient_detail", args=[patient.pk])
    assert "Assessment recorded and signed: Not suitable: rosacea." in html
    assert 'class="badge badge-not_suitable"' in html
    assert "Rosacea: exfoliation inflames it; do not treat." in html
    assessment = SkinAssessment.objects.get()
    assert assessment.concerns == {"acne_scars": "moderate", "dull_rough": "mild"}
    assert assessment.signed_by == practitioner.user


def test_save_as_draft_keeps_it_unsigned_and_opens_it(patient: Any, practitioner: Any):
    form = assessment_form(action_draft="1")
    del form["action_sign"]

    response = signed_in(practitioner.user).post(
        reverse("treatments:assessment_create", args=[patient.pk]), form
    )

    assessment = SkinAssessment.objects.get()
    assert assessment.signed_at is None
    assert response["Location"] == reverse("treatments:assessment_detail", args=[assessment.pk])


def test_pressing_enter_saves_a_draft_because_that_button_comes_first(
    patient: Any, practitioner: Any
):
    client = signed_in(practitioner.user)
    html = client.get(reverse("treatments:assessment_create", args=[patient.pk])).content.decode()
    assert html.index('name="action_draft"') < html.index('name="action_sign"')

    form = assessment_form()
    del form["action_sign"]  # implicit submission without the sign button
    client.post(reverse("treatments:assessment_create", args=[patient.pk]), form)

    assert SkinAssessment.objects.get().signed_at is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"fitzpatrick": ""}, "fitzpatrick", "This field is required."),
        ({"skin_type": "scaly"}, "skin_type", "Select a valid choice."),
        ({"assessed_on": "2999-01-01"}, "assessed_on", "cannot be dated in the future"),
        ({"surgery_on": "2999-01-01"}, "surgery_on", "after the assessment date"),
        ({"contraindications": ["other"]}, "other_contraindication", "Describe the other"),
        ({"concern_dull_rough": "extreme"}, "concern_dull_rough", "Select a valid choice."),
    ],
    ids=["fitzpatrick-required", "skin-type", "future", "surgery-later", "other", "severity"],
)
def test_bad_assessment_input_is_a_field_error_that_keeps_what_was_typed(
    patient: Any, practitioner: Any, changes: dict[str, Any], field: str, message: str
):
    response = signed_in(practitioner.user).post(
        reverse("treatments:assessment_create", args=[patient.pk]),
        assessment_form(medications="Isotretinoin stopped in 2024", **changes),
    )

    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert "Isotretinoin stopped in 2024" in response.content.decode()
    assert SkinAssessment.objects.count() == 0


def test_writing_other_details_ticks_other_by_itself(patient: Any, practitioner: Any):
    signed_in(practitioner.user).post(
        reverse("treatments:assessment_create", args=[patient.pk]),
        assessment_form(other_contraindication="Pregnant"),
    )

    assessment = SkinAssessment.objects.get()
    assert assessment.contraindications == ["other"]
    assert assessment.outcome_summary == "Caution: other contraindication"


def test_an_archived_patient_cannot_get_a_new_assessment(patient: Any, practitioner: Any):
    patient.is_active = False
    patient.save()

    response = signed_in(practitioner.user).get(
        reverse("treatments:assessment_create", args=[patient.pk])
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("clinic:patient_detail", args=[patient.pk])


# --- Drafts, signing and amending --------------------------------------------------------------


def test_the_author_signs_a_draft_from_its_page(patient: Any, practitioner: Any):
    draft = assess(patient, by=practitioner.user, sign=False)
    client = signed_in(practitioner.user)
    page = client.get(reverse("treatments:assessment_detail", args=[draft.pk]))
    assert "Draft, not signed" in page.content.decode()

    client.post(reverse("treatments:assessment_sign", args=[draft.pk]))

    draft.refresh_from_db()
    assert draft.signed_by == practitioner.user


def test_signing_is_post_only(patient: Any, practitioner: Any):
    draft = assess(patient, by=practitioner.user, sign=False)

    response = signed_in(practitioner.user).get(
        reverse("treatments:assessment_sign", args=[draft.pk])
    )

    assert response.status_code == 405


def test_another_practitioner_cannot_edit_or_sign_the_draft(
    patient: Any, practitioner: Any, second_practitioner: Any
):
    draft = assess(patient, by=practitioner.user, sign=False)
    client = signed_in(second_practitioner.user)

    edit = client.get(reverse("treatments:assessment_update", args=[draft.pk]))
    sign = client.post(reverse("treatments:assessment_sign", args=[draft.pk]), follow=True)

    assert edit.status_code == 403
    assert "Only Amara Okafor" in edit.content.decode()
    assert "Only Amara Okafor" in sign.content.decode()
    draft.refresh_from_db()
    assert draft.signed_at is None


def test_the_edit_page_of_a_signed_assessment_is_the_amendment_form(signed: Any, practitioner: Any):
    response = signed_in(practitioner.user).get(
        reverse("treatments:assessment_update", args=[signed.pk])
    )

    assert response["Location"] == reverse("treatments:assessment_amend", args=[signed.pk])


def test_amending_without_a_reason_is_refused_and_nothing_changes(signed: Any, practitioner: Any):
    response = signed_in(practitioner.user).post(
        reverse("treatments:assessment_amend", args=[signed.pk]),
        assessment_form(contraindications=[], reason=""),
    )

    assert response.context["form"].errors["reason"] == [
        "Say why you are amending a signed assessment."
    ]
    signed.refresh_from_db()
    assert signed.contraindications == ["rosacea"]


def test_an_amendment_that_changes_nothing_says_so(signed: Any, practitioner: Any):
    form = assessment_form(contraindications=["rosacea"], reason="Checking", concern_acne_scars="")

    response = signed_in(practitioner.user).post(
        reverse("treatments:assessment_amend", args=[signed.pk]), form
    )

    assert "Nothing was changed" in response.content.decode()
    assert Amendment.objects.count() == 0


def test_an_amendment_keeps_the_original_visible_and_names_who_and_why(
    patient: Any, signed: Any, practitioner: Any, second_practitioner: Any
):
    client = signed_in(second_practitioner.user)

    response = client.post(
        reverse("treatments:assessment_amend", args=[signed.pk]),
        assessment_form(
            contraindications=[], reason="Rosacea was a misdiagnosis: dermatology letter"
        ),
        follow=True,
    )

    html = response.content.decode()
    assert "Amendment saved. Screening now: Suitable." in html
    assert "Rosacea was a misdiagnosis: dermatology letter" in html
    assert "Jonas Lindqvist" in html
    assert "The original, as signed" in html
    assert "<del>Rosacea</del>" in html
    patient.refresh_from_db()
    assert patient.suitability == "suitable"


def test_the_assessment_page_is_recorded_in_the_audit_trail(signed: Any, practitioner: Any):
    from clinic.models import AuditEntry

    signed_in(practitioner.user).get(reverse("treatments:assessment_detail", args=[signed.pk]))

    assert AuditEntry.objects.filter(
        action="view", object_type="treatments.skinassessment", object_id=str(signed.pk)
    ).exists()


# --- The patient page, per role --------------------------------------------------------------


def patient_page(user: Any, patient: Any) -> str:
    return signed_in(user).get(reverse("clinic:patient_detail", args=[patient.pk])).content.decode()


def test_receptionists_see_the_badge_and_what_to_do_but_no_medical_reason(
    patient: Any, practitioner: Any, receptionist: Any
):
    assess(
        patient,
        by=practitioner.user,
        contraindications={"rosacea"},
        medications="Doxycycline 40 mg",
        notes="Flushes with heat",
    )

    html = patient_page(receptionist, patient)

    assert 'class="badge badge-not_suitable"' in html
    assert "Not suitable: a practitioner must review before booking." in html
    assert "rosacea" not in html.lower()
    assert "Skin assessment: Not suitable" in html
    assert "/assessments/" not in html
    assert "Doxycycline" not in html
    assert "Record a skin assessment" not in html


def test_practitioners_get_a_link_to_the_assessment_and_a_record_button(
    patient: Any, signed: Any, practitioner: Any
):
    html = patient_page(practitioner.user, patient)

    assert reverse("treatments:assessment_detail", args=[signed.pk]) in html
    assert reverse("treatments:assessment_create", args=[patient.pk]) in html
    assert "By Amara Okafor" in html


def test_an_old_assessment_shows_reassessment_due_on_the_patient_page(
    patient: Any, practitioner: Any, receptionist: Any
):
    assess(patient, by=practitioner.user, assessed_on=clock.today() - dt.timedelta(days=200))

    html = patient_page(receptionist, patient)

    assert "Reassessment due" in html


def test_a_patient_page_with_no_history_says_what_will_appear(patient: Any, receptionist: Any):
    html = patient_page(receptionist, patient)

    assert "No skin assessment yet" in html
    assert 'data-testid="timeline-empty"' in html


@pytest.mark.parametrize(
    "url_name", ["treatments:assessment_update", "treatments:assessment_amend"]
)
def test_a_manager_without_a_practitioner_profile_cannot_edit_or_amend(
    patient: Any, practitioner: Any, manager: Any, url_name: str
):
    draft = assess(patient, by=practitioner.user, sign=False)
    signed = assess(patient, by=practitioner.user)
    target = draft if url_name.endswith("update") else signed

    response = signed_in(manager).get(reverse(url_name, args=[target.pk]))

    assert response.status_code == 403
    assert "not linked to a practitioner" in response.content.decode()


def test_the_patient_page_costs_the_same_queries_with_one_or_many_assessments(
    patient: Any, practitioner: Any
):
    client = signed_in(practitioner.user)
    url = reverse("clinic:patient_detail", args=[patient.pk])
    assess(patient, by=practitioner.user)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for days in range(1, 6):
        assess(patient, by=practitioner.user, assessed_on=clock.today() - dt.timedelta(days=days))
    with CaptureQueriesContext(connection) as six:
        response = client.get(url)

    assert response.content.decode().count("Skin assessment: Suitable") == 6
    assert len(six) == len(one)
