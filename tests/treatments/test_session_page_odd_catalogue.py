"""Leak 6: a treatment type saved with odd values before the rules held everywhere (a
0-minute duration) must not turn the session page into a server error."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from tests.builders import london, planned_series
from treatments.models import TreatmentType

pytestmark = pytest.mark.django_db


def test_the_session_page_does_not_500_on_a_zero_minute_treatment(
    client: Any, practitioner: Any, patient: Any
) -> None:
    series = planned_series(patient, practitioner, start_on=dt.date(2026, 3, 2))
    TreatmentType.objects.filter(pk=series.treatment_type_id).update(default_duration_minutes=0)
    client.force_login(practitioner.user)

    with time_machine.travel(london(2026, 3, 2, 12), tick=False):
        page = client.get(reverse("treatments:session_log", args=[series.pk]))

    assert page.status_code == 200
    assert page.context["form"].initial.get("duration_minutes") is None
