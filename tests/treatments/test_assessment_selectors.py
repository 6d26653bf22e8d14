"""Reading assessments: latest screening (single and bulk), the page with its history, the
timeline entries and what receptionists see of them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic import timeline
from tests.builders import assess, assessment_details
from tests.factories import PatientFactory
from treatments.selectors import (
    assessment_for_page,
    assessment_page,
    latest_screening,
    latest_screenings,
    suggested_sessions,
)
from treatments.services.assessments import assessment_amend

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 11, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def frozen_clock() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def test_a_patient_without_assessments_has_no_screening(patient: Any):
    latest = latest_screening(patient)

    assert latest.assessment is None
    assert latest.outcome == "unknown"
    assert latest.summary == "No assessment yet"
    assert not latest.reassessment_due


def test_latest_screening_gives_the_newest_assessment_with_reasons_and_advice(
    patient: Any, practitioner: Any, django_assert_num_queries: Any
):
    assess(patient, by=practitioner.user, assessed_on=TODAY - dt.timedelta(days=30))
    newest = assess(patient, by=practitioner.user, fitzpatrick=5, sign=False)

    with django_assert_num_queries(1):
        latest = latest_screening(patient)

    assert latest.assessment == newest
    assert latest.outcome == "caution"
    assert latest.summary == "Caution: Fitzpatrick V"
    assert "Use a lower intensity: Fitzpatrick type V skin." in latest.screening.advice
    assert not latest.signed


def test_an_assessment_older_than_the_setting_is_due_again(
    patient: Any, practitioner: Any, settings: Any
):
    settings.REASSESSMENT_AFTER_DAYS = 30
    assess(patient, by=practitioner.user, assessed_on=TODAY - dt.timedelta(days=31))

    assert latest_screening(patient).reassessment_due
    assert not latest_screening(patient, today=TODAY - dt.timedelta(days=1)).reassessment_due


def test_latest_screenings_for_a_list_is_one_query_whatever_its_length(
    practitioner: Any, django_assert_num_queries: Any
):
    patients = PatientFactory.create_batch(6)
    for index, patient in enumerate(patients[:5]):
        assess(
            patient,
            by=practitioner.user,
            assessed_on=TODAY - dt.timedelta(days=400),
            contraindications={"eczema"},
        )
        assess(patient, by=practitioner.user, fitzpatrick=1 + index)

    with django_assert_num_queries(1):
        screenings = latest_screenings(patients)

    assert [screenings[patient.pk].summary for patient in patients] == [
        "Suitable",
        "Suitable",
        "Suitable",
        "Caution: Fitzpatrick IV",
        "Caution: Fitzpatrick V",
        "No assessment yet",
    ]


def test_latest_screenings_of_nobody_costs_nothing(django_assert_num_queries: Any):
    with django_assert_num_queries(0):
        assert latest_screenings([]) == {}


def test_suggested_sessions_follow_each_treatment_types_defaults():
    suggested = {
        treatment_type.name: count
        for treatment_type, count in suggested_sessions({"acne_scars": "severe"})
    }

    assert suggested == {
        "Crystal microdermabrasion": 8,
        "Diamond-tip microdermabrasion": 8,
        "Microneedling (nano tip)": 6,
    }


def test_the_assessment_page_keeps_the_original_visible_beside_each_amendment(
    patient: Any, practitioner: Any, second_practitioner: Any
):
    signed = assess(patient, by=practitioner.user, allergies="None known")
    assessment_amend(
        assessment=signed,
        user=second_practitioner.user,
        details=assessment_details(allergies="Lanolin"),
        reason="Patient remembered an allergy",
    )
    assessment_amend(
        assessment=signed,
        user=practitioner.user,
        details=assessment_details(allergies="Lanolin", contraindications={"rosacea"}),
        reason="Rosacea seen at the first session",
    )

    page = assessment_page(assessment_for_page(signed.pk))

    rows = {row.label: row.value for row in page.rows}
    original = {row.label: row.value for row in page.original_rows}
    assert rows["Allergies"] == "Lanolin"
    assert rows["Contraindications"] == "Rosacea"
    assert original["Allergies"] == "None known"
    assert original["Contraindications"] == "None"
    assert [view.amendment.reason for view in page.amendments] == [
        "Patient remembered an allergy",
        "Rosacea seen at the first session",
    ]
    assert [(c.label, c.before, c.after) for c in page.amendments[1].changes] == [
        ("Contraindications", "None", "Rosacea"),
        ("Screening", "Suitable", "Not suitable: rosacea"),
    ]
    assert page.screening.summary == "Not suitable: rosacea"


def test_an_unamended_assessment_has_no_separate_original(patient: Any, practitioner: Any):
    signed = assess(
        patient, by=practitioner.user, concerns={"age_spots": "moderate", "dull_rough": "mild"}
    )

    page = assessment_page(assessment_for_page(signed.pk))

    assert page.original_rows == ()
    rows = {row.label: row.value for row in page.rows}
    assert rows["Concerns"] == "Dull or rough skin (mild); Age spots (moderate)"
    assert rows["Fitzpatrick type"] == "II (usually burns, tans minimally)"
    assert rows["Facial surgery on"] == "Not recorded"


# --- Timeline -------------------------------------------------------------------------------


def test_the_timeline_lists_assessments_and_amendments_for_clinicians(
    patient: Any, practitioner: Any
):
    signed = assess(patient, by=practitioner.user, contraindications={"rosacea"})
    assessment_amend(
        assessment=signed,
        user=practitioner.user,
        details=assessment_details(contraindications={"rosacea"}, notes="Flushes easily"),
        reason="Added a note",
    )

    entries = [
        entry
        for entry in timeline.entries_for(patient, user=practitioner.user)
        if entry.kind == "assessment"
    ]

    assert [entry.title for entry in entries] == [
        "Skin assessment amended",
        "Skin assessment: Not suitable",
    ]
    assert entries[1].detail == "Not suitable: rosacea. By Amara Okafor, signed 10 March 2026."
    assert entries[1].url.endswith(f"/assessments/{signed.pk}/")
    assert "Added a note" in entries[0].detail


def test_receptionists_see_the_timeline_verdict_but_no_clinical_detail_or_link(
    patient: Any, practitioner: Any, receptionist: Any
):
    assess(patient, by=practitioner.user, contraindications={"rosacea"}, sign=False)

    (entry,) = [
        entry
        for entry in timeline.entries_for(patient, user=receptionist)
        if entry.kind == "assessment"
    ]

    assert entry.title == "Skin assessment (draft, not signed): Not suitable"
    assert entry.detail == ""
    assert entry.url == ""


def test_timeline_entries_cost_the_same_queries_for_one_or_many_assessments(
    patient: Any, practitioner: Any
):
    assess(patient, by=practitioner.user)
    timeline.entries_for(patient, user=practitioner.user)  # the user's roles are cached
    with CaptureQueriesContext(connection) as one:
        timeline.entries_for(patient, user=practitioner.user)
    for days in range(1, 5):
        signed = assess(patient, by=practitioner.user, assessed_on=TODAY - dt.timedelta(days=days))
        assessment_amend(
            assessment=signed,
            user=practitioner.user,
            details=assessment_details(assessed_on=signed.assessed_on, notes="x"),
            reason="note",
        )
    with CaptureQueriesContext(connection) as many:
        entries = timeline.entries_for(patient, user=practitioner.user)

    assert len([entry for entry in entries if entry.kind == "assessment"]) == 9
    assert len(many) == len(one)
