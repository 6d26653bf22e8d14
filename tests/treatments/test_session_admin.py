"""The admin never changes clinical records: sessions and series are read-only there."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from tests.treatments.series_support import crystal, log_and_sign, london, plan

pytestmark = pytest.mark.django_db


def test_a_manager_can_read_a_signed_session_in_the_admin_but_not_change_or_delete_it(
    client: Any, manager: Any, patient: Any, practitioner: Any
) -> None:
    series = plan(patient, practitioner, start_on=dt.date(2026, 3, 2))
    session = log_and_sign(series, practitioner, london(2026, 3, 2, 10))
    client.force_login(manager)
    change_url = reverse("admin:treatments_treatmentsession_change", args=[session.pk])

    page = client.get(change_url)
    posted = client.post(change_url, {"redness": "none"})
    deleted = client.post(
        reverse("admin:treatments_treatmentsession_delete", args=[session.pk]), {"post": "yes"}
    )
    session.refresh_from_db()

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert (posted.status_code, deleted.status_code) == (403, 403)
    assert session.redness == "mild"
    assert client.get(reverse("admin:treatments_treatmentsession_add")).status_code == 403


def test_the_admin_refuses_a_broken_parameter_schema(client: Any, manager: Any) -> None:
    treatment_type = crystal()
    client.force_login(manager)
    url = reverse("admin:treatments_treatmenttype_change", args=[treatment_type.pk])
    data = {
        "name": treatment_type.name,
        "modality": treatment_type.modality,
        "description": "",
        "default_duration_minutes": 30,
        "extra_area_minutes": 15,
        "buffer_minutes": 10,
        "min_interval_days": 14,
        "max_interval_days": 28,
        "maintenance_interval_days": 30,
        "sessions_mild": 4,
        "sessions_moderate": 6,
        "sessions_severe": 8,
        "parameter_schema": '[{"name": "passes", "label": "Passes", "type": "int", "min": 3, '
        '"max": 1}]',
        "aftercare_template": treatment_type.aftercare_template,
        "is_active": "on",
    }

    response = client.post(url, data)
    treatment_type.refresh_from_db()

    assert response.status_code == 200
    assert "must not be above the highest" in response.content.decode()
    assert treatment_type.parameter_schema[-1]["max"] == 3
