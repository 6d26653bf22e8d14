"""Field level: receptionists never get clinical detail, in pages, the API or exports.

Canary text is planted in every clinical field (allergies, medications and notes of an
assessment, its "other" contraindication and screening reasons, session notes, the aftercare
note, a series' stop reason); every page, htmx partial and API answer a receptionist can reach
about that patient is searched for it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from django.test import Client

from bookings import reminders
from bookings.services import appointment_book
from bookings.services.tokens import api_token_issue
from clinic.models import OutboundMessage
from tests.builders import (
    MONDAY,
    crystal_with_room,
    local,
    open_clinic_business_hours,
    planned_series,
    signed_session,
    working_week,
)
from tests.factories import PatientFactory
from treatments.models import SkinAssessment
from treatments.services.assessments import AssessmentDetails, assessment_amend
from treatments.services.series import series_stop

pytestmark = pytest.mark.django_db

ASSESSMENT_SECRET = "Canary-allergy-to-salicylates"
SESSION_SECRET = "Canary-pinpoint-bleeding-left-cheek"
AFTERCARE_SECRET = "Canary-use-the-prescribed-hydroquinone"
MEDICATIONS_SECRET = "Canary-isotretinoin-until-last-spring"
ASSESSMENT_NOTES_SECRET = "Canary-anxious-about-redness-at-work"


@pytest.fixture
def clinical_history(practitioner: Any, patient: Any, time_machine: Any) -> dict[str, Any]:
    time_machine.move_to(local(MONDAY, 8), tick=False)
    open_clinic_business_hours()
    working_week(practitioner)
    start = MONDAY - dt.timedelta(days=21)
    series = planned_series(patient, practitioner, start_on=start)
    # Through an amendment, as the app does it: the canary is in the amendment's trail too.
    assessment = SkinAssessment.objects.get(patient=patient)
    assessment_amend(
        assessment=assessment,
        user=practitioner.user,
        details=dataclasses.replace(
            AssessmentDetails.of(assessment),
            allergies=ASSESSMENT_SECRET,
            medications=MEDICATIONS_SECRET,
            notes=ASSESSMENT_NOTES_SECRET,
        ),
        reason="Patient mentioned an allergy",
    )
    session = signed_session(
        series,
        practitioner,
        local(start, 10),
        notes=SESSION_SECRET,
        aftercare_additions=AFTERCARE_SECRET,
    )
    reminders.sweep_aftercare(now=local(MONDAY, 8))
    appointment = appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=crystal_with_room(),
        starts_at=local(MONDAY + dt.timedelta(days=1), 10),
        booked_by=None,
        series=series,
    )
    aftercare = OutboundMessage.objects.get(kind="aftercare")
    assert AFTERCARE_SECRET in aftercare.body_text  # the patient does get it
    return {
        "series": series,
        "session": session,
        "appointment": appointment,
        "aftercare": aftercare,
    }


def _pages(patient: Any, history: dict[str, Any]) -> list[str]:
    day = (MONDAY + dt.timedelta(days=1)).isoformat()
    return [
        "/",
        f"/patients/?q={patient.family_name}",
        f"/patients/{patient.pk}/",
        "/series/",
        f"/series/{history['series'].pk}/",
        f"/appointments/{history['appointment'].pk}/",
        f"/calendar/?date={day}",
        "/due/",
        "/outbox/",
        f"/outbox/{history['aftercare'].pk}/",
    ]


SECRETS = (
    ASSESSMENT_SECRET,
    MEDICATIONS_SECRET,
    ASSESSMENT_NOTES_SECRET,
    SESSION_SECRET,
    AFTERCARE_SECRET,
)


def test_receptionists_see_no_clinical_detail_on_any_page(
    client: Client, receptionist: Any, patient: Any, clinical_history: dict[str, Any]
):
    client.force_login(receptionist)
    leaks = []
    for url in _pages(patient, clinical_history):
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):  # the page and its htmx partial
            response = client.get(url, **headers)
            assert response.status_code == 200, url
            html = response.content.decode()
            leaks += [f"{url} {headers}: {secret}" for secret in SECRETS if secret in html]
    assert leaks == []


def test_practitioners_do_see_the_clinical_detail(
    client: Client, practitioner: Any, patient: Any, clinical_history: dict[str, Any]
):
    client.force_login(practitioner.user)
    session = clinical_history["session"]
    assert SESSION_SECRET in client.get(f"/sessions/{session.pk}/").content.decode()
    outbox = client.get(f"/outbox/{clinical_history['aftercare'].pk}/").content.decode()
    assert AFTERCARE_SECRET in outbox


def test_receptionists_get_no_clinical_detail_from_the_api(
    client: Client, receptionist: Any, patient: Any, clinical_history: dict[str, Any]
):
    _, token = api_token_issue(username=receptionist.username, name="desk")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    appointment = clinical_history["appointment"]
    day = MONDAY + dt.timedelta(days=1)
    answers = [
        client.get(f"/api/patients/{patient.pk}", **auth),
        client.get("/api/patients", {"q": patient.family_name}, **auth),
        client.get(f"/api/appointments/{appointment.pk}", **auth),
        client.get(
            "/api/appointments",
            {"start": f"{day.isoformat()}T00:00:00Z", "end": f"{day.isoformat()}T23:59:00Z"},
            **auth,
        ),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.content
        body = answer.content.decode()
        assert not [secret for secret in SECRETS if secret in body], body


def test_receptionists_cannot_reach_the_exports(
    client: Client, receptionist: Any, patient: Any, clinical_history: dict[str, Any]
):
    client.force_login(receptionist)
    for url in [
        f"/patients/{patient.pk}/privacy/",
        f"/patients/{patient.pk}/privacy/export.json",
        "/audit/export.csv",
        "/audit/",
    ]:
        assert client.get(url).status_code == 403, url


# -- screening reasons and stop reasons (issue 17, item 8) ------------------------------------

OTHER_SECRET = "Canary-keloid-scarring-after-a-peel"
STOP_SECRET = "Canary-stopped-after-blistering-on-the-chin"
# "Rosacea" is a screening reason too: the summary names it ("Not suitable: rosacea").
SCREENING_SECRETS = (OTHER_SECRET, STOP_SECRET, "rosacea", "Rosacea")


@pytest.fixture
def unsuitable_history(practitioner: Any, time_machine: Any) -> dict[str, Any]:
    """A patient assessed as not suitable (rosacea, and an "other" contraindication in the
    practitioner's words), a stopped series with its reason, and an appointment booked on a
    practitioner's recorded override (so the calendar shows their card)."""
    time_machine.move_to(local(MONDAY, 8), tick=False)
    open_clinic_business_hours()
    working_week(practitioner)
    patient = PatientFactory(given_name="Noor", family_name="Haddad")
    start = MONDAY - dt.timedelta(days=21)
    series = planned_series(patient, practitioner, start_on=start)
    assessment = SkinAssessment.objects.get(patient=patient)
    assessment_amend(
        assessment=assessment,
        user=practitioner.user,
        details=dataclasses.replace(
            AssessmentDetails.of(assessment),
            contraindications=frozenset({"rosacea", "other"}),
            other_contraindication=OTHER_SECRET,
        ),
        reason="Flare-up seen at the desk",
    )
    patient.refresh_from_db()
    assert patient.suitability == "not_suitable"
    series_stop(series=series, reason=STOP_SECRET, by=practitioner.user, now=local(MONDAY, 8))
    appointment = appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=crystal_with_room(),
        starts_at=local(MONDAY + dt.timedelta(days=1), 11),
        booked_by=practitioner.user,
        suitability_override_reason="Reviewed: treating the cheeks only",
    )
    return {"patient": patient, "series": series, "appointment": appointment}


def _unsuitable_pages(history: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    patient = history["patient"]
    day = (MONDAY + dt.timedelta(days=1)).isoformat()
    htmx = {"HTTP_HX_REQUEST": "true"}
    return [
        ("/", {}),
        (f"/patients/?q={patient.family_name}", {}),
        (f"/patients/?q={patient.family_name}", htmx),
        (f"/patients/{patient.pk}/", {}),
        ("/series/", {}),
        (f"/series/{history['series'].pk}/", {}),
        (f"/appointments/{history['appointment'].pk}/", {}),
        (f"/appointments/new/?patient={patient.pk}", {}),
        (f"/calendar/?date={day}", {}),
        (f"/calendar/?date={day}", htmx),
        ("/due/", {}),
    ]


def _leaks(html: str) -> list[str]:
    return [secret for secret in SCREENING_SECRETS if secret in html]


def test_receptionists_see_no_screening_reason_or_stop_reason_on_any_page(
    client: Client, receptionist: Any, unsuitable_history: dict[str, Any]
):
    client.force_login(receptionist)
    leaks = []
    for url, headers in _unsuitable_pages(unsuitable_history):
        response = client.get(url, **headers)
        assert response.status_code == 200, url
        leaks += [f"{url} {headers}: {secret}" for secret in _leaks(response.content.decode())]
    assert leaks == []
    page = client.get(f"/patients/{unsuitable_history['patient'].pk}/").content.decode()
    assert "Not suitable: a practitioner must review before booking." in page


def test_practitioners_still_see_the_screening_reasons_and_the_stop_reason(
    client: Client, practitioner: Any, unsuitable_history: dict[str, Any]
):
    client.force_login(practitioner.user)
    patient_page = client.get(f"/patients/{unsuitable_history['patient'].pk}/").content.decode()
    series_page = client.get(f"/series/{unsuitable_history['series'].pk}/").content.decode()
    assert OTHER_SECRET in patient_page
    assert "rosacea" in patient_page
    assert STOP_SECRET in patient_page  # the timeline's series entry
    assert STOP_SECRET in series_page


def test_a_receptionists_refused_booking_names_no_screening_reason_in_the_api(
    client: Client, receptionist: Any, practitioner: Any, unsuitable_history: dict[str, Any]
):
    _, token = api_token_issue(username=receptionist.username, name="desk")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    patient = unsuitable_history["patient"]
    refused = client.post(
        "/api/appointments",
        {
            "patient_id": patient.pk,
            "practitioner_id": practitioner.pk,
            "treatment_type_id": crystal_with_room().pk,
            "starts_at": local(MONDAY + dt.timedelta(days=2), 10).isoformat(),
        },
        content_type="application/json",
        **auth,
    )
    shown = client.get(f"/api/patients/{patient.pk}", **auth)

    assert refused.status_code == 409, refused.content
    assert "a practitioner must review before booking" in refused.json()["detail"]
    assert _leaks(refused.content.decode()) == []
    assert _leaks(shown.content.decode()) == []
