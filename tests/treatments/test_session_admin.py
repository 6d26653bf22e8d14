"""The admin never changes clinical records: sessions and series are read-only there."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from tests.builders import london, planned_series, signed_session

pytestmark = pytest.mark.django_db


def test_a_manager_can_read_a_signed_session_in_the_admin_but_not_change_or_delete_it(
    client: Any, manager: Any, patient: Any, practitioner: Any
) -> None:
    series = planned_series(patient, practitioner, start_on=dt.date(2026, 3, 2))
    session = signed_session(series, practitioner, london(2026, 3, 2, 10))
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
