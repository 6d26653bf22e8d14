"""Consent to email is given, never assumed, on every path that creates a patient."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clinic.models import Patient
from clinic.services import PatientDetails, patient_create

pytestmark = pytest.mark.django_db


def test_a_patient_created_without_an_answer_has_not_agreed_to_reminders():
    details = PatientDetails(
        given_name="Noor",
        family_name="Haddad",
        date_of_birth=dt.date(1990, 5, 1),
        email="noor@patients.example",
    )

    patient = patient_create(details=details)

    assert patient.email_reminders is False


def test_the_api_does_not_tick_consent_for_a_new_patient(client: Any, receptionist: Any):
    from bookings.services.tokens import api_token_issue

    _row, token = api_token_issue(username=receptionist.username, name="desk")
    response = client.post(
        "/api/patients",
        {
            "given_name": "Noor",
            "family_name": "Haddad",
            "date_of_birth": "1990-05-01",
            "email": "noor@patients.example",
        },
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 201, response.content
    assert Patient.objects.get(family_name="Haddad").email_reminders is False


def test_a_patient_row_made_without_an_answer_has_not_agreed():
    assert Patient._meta.get_field("email_reminders").default is False
