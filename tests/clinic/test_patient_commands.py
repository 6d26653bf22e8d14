"""generate_patients fills the clinic fast for trying the search; time_patient_search times it."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from clinic.models import Patient, patient_search_text
from clinic.selectors import PatientStatus, parse_patient_query, patient_page

pytestmark = pytest.mark.django_db


def test_generate_patients_creates_searchable_patients_with_unique_emails(settings: Any):
    out = StringIO()
    call_command("generate_patients", "40", "--batch-size", "15", stdout=out)
    call_command("generate_patients", "10", stdout=StringIO())

    patients = list(Patient.objects.all())
    assert len(patients) == 50
    assert "Created 40 patients" in out.getvalue()
    assert len({patient.email for patient in patients}) == 50
    sample = patients[0]
    assert sample.search_text == patient_search_text(
        given_name=sample.given_name,
        family_name=sample.family_name,
        email=sample.email,
        phone=sample.phone,
        region=settings.CLINIC_PHONE_REGION,
    )
    page = patient_page(
        query=parse_patient_query(sample.email), status=PatientStatus.ALL, page_number=1
    )
    assert page.patients == [sample]


def test_generate_patients_refuses_a_count_below_one():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("generate_patients", "0", stdout=StringIO())


def test_time_patient_search_reports_a_line_per_keystroke():
    call_command("generate_patients", "20", stdout=StringIO())
    out = StringIO()

    call_command("time_patient_search", "--repeat", "1", stdout=out)

    report = out.getvalue()
    assert "20 patients on" in report
    assert "07700 900123" in report
    assert "Median of medians" in report
