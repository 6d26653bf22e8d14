"""The demo clinic's patients carry the badges their assessments give them."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from clinic.models import Patient
from treatments.selectors import latest_screenings

pytestmark = pytest.mark.django_db


def test_seed_demo_patients_show_the_badge_of_their_latest_assessment(settings: Any):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())

    patients = list(Patient.objects.all())
    screenings = latest_screenings(patients)
    assert {patient.suitability for patient in patients} >= {
        "unknown",
        "suitable",
        "caution",
        "not_suitable",
    }
    for patient in patients:
        assert patient.suitability == screenings[patient.pk].outcome
        assert patient.assessed_on == getattr(
            screenings[patient.pk].assessment, "assessed_on", None
        )
