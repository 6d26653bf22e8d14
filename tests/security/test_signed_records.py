"""Signed clinical records change only through an amendment: not in bulk, not in SQL."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from tests import builders
from tests.builders import assess, london, planned_series
from treatments.models import SignedRecordLocked, SkinAssessment, TreatmentSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_session(practitioner: Any, patient: Any) -> TreatmentSession:
    series = planned_series(patient, practitioner, start_on=london(2026, 3, 2).date())
    return builders.signed_session(
        series, practitioner, london(2026, 3, 2, 10), notes="As recorded"
    )


def test_a_bulk_update_of_signed_sessions_is_refused(signed_session: TreatmentSession):
    with pytest.raises(SignedRecordLocked, match="amend them one by one"):
        TreatmentSession.objects.filter(pk=signed_session.pk).update(notes="Rewritten")
    assert TreatmentSession.objects.get(pk=signed_session.pk).notes == "As recorded"


def test_a_bulk_delete_of_signed_records_is_refused(signed_session: TreatmentSession):
    with pytest.raises(SignedRecordLocked):
        TreatmentSession.objects.filter(pk=signed_session.pk).delete()
    with pytest.raises(SignedRecordLocked):
        SkinAssessment.objects.all().delete()
    assert TreatmentSession.objects.filter(pk=signed_session.pk).exists()


def test_saving_a_changed_signed_session_is_refused_by_the_database(
    signed_session: TreatmentSession,
):
    signed_session.notes = "Quietly rewritten"
    with pytest.raises(IntegrityError), transaction.atomic():
        signed_session.save()
    assert TreatmentSession.objects.get(pk=signed_session.pk).notes == "As recorded"


def test_raw_sql_cannot_change_a_signed_assessment(practitioner: Any, patient: Any):
    assessment = assess(patient, by=practitioner.user, assessed_on=london(2026, 3, 2).date())
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE treatments_skinassessment SET notes = 'edited' WHERE id = %s", [assessment.pk]
        )
    assert SkinAssessment.objects.get(pk=assessment.pk).notes == ""


def test_drafts_still_update_in_bulk(practitioner: Any, patient: Any):
    from tests.builders import logged_session

    series = planned_series(patient, practitioner, start_on=london(2026, 3, 2).date())
    draft = logged_session(series, practitioner, london(2026, 3, 2, 10))
    assert TreatmentSession.objects.filter(pk=draft.pk).update(notes="Draft note") == 1


def test_the_admin_shows_signed_sessions_read_only(client: Any, manager: Any, signed_session: Any):
    client.force_login(manager)
    url = f"/admin/treatments/treatmentsession/{signed_session.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="notes"' not in page.content.decode()
    client.post(url, {"notes": "Changed in the admin"})
    assert TreatmentSession.objects.get(pk=signed_session.pk).notes == "As recorded"
