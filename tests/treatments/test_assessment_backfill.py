"""The data migration gives patients assessed before the badge existed their badge."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import pytest
from django.apps import apps

from treatments.models import SkinAssessment

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("treatments.migrations.0006_patient_badge_backfill").backfill


def test_the_backfill_copies_the_latest_assessment_onto_the_patient(
    patient: Any, practitioner: Any
):
    for assessed_on, contraindications in [
        (dt.date(2026, 1, 5), ["rosacea"]),
        (dt.date(2025, 6, 1), []),
    ]:
        SkinAssessment.objects.create(
            patient=patient,
            practitioner=practitioner,
            assessed_on=assessed_on,
            fitzpatrick=2,
            skin_type="normal",
            contraindications=contraindications,
        )
    assert patient.suitability == "unknown"

    backfill(apps, None)
    backfill(apps, None)  # re-runnable

    patient.refresh_from_db()
    assert patient.suitability == "not_suitable"
    assert patient.suitability_summary == "Not suitable: rosacea"
    assert patient.suitability_reasons == ["Rosacea: exfoliation inflames it; do not treat."]
    assert patient.assessed_on == dt.date(2026, 1, 5)
