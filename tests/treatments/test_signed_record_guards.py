"""Below the app, a signed session or assessment changes only with an amendment row written
in the same transaction, and neither signed records nor amendments can be deleted.

Each attack is tried through the ORM and through raw SQL; run on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F

from tests import builders
from tests.builders import (
    assess,
    assessment_details,
    london,
    planned_series,
    session_record,
)
from treatments.models import AftercareNote, Amendment, SkinAssessment, TreatmentSession
from treatments.services.assessments import assessment_amend
from treatments.services.sessions import session_amend

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_session(patient: Any, practitioner: Any) -> TreatmentSession:
    series = planned_series(patient, practitioner, start_on=dt.date(2026, 3, 2), planned_sessions=3)
    return builders.signed_session(series, practitioner, london(2026, 3, 2, 10))


@pytest.fixture
def signed_assessment(patient: Any, practitioner: Any) -> SkinAssessment:
    return assess(patient, by=practitioner.user, allergies="None known")


def _refused(sql: str, *params: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_signed_session_rewritten_with_a_bumped_count_but_no_amendment_is_refused(
    signed_session: TreatmentSession,
) -> None:
    signed_session.notes = "Rewritten"
    signed_session.amendment_count = F("amendment_count") + 1
    with pytest.raises(IntegrityError), transaction.atomic():
        signed_session.save(update_fields=["notes", "amendment_count"])
    _refused(
        "UPDATE treatments_treatmentsession SET notes = 'Rewritten',"
        " amendment_count = amendment_count + 1 WHERE id = %s",
        signed_session.pk,
    )

    signed_session.refresh_from_db()
    assert (signed_session.notes, signed_session.amendment_count) == ("", 0)


def test_a_signed_assessment_rewritten_with_a_bumped_count_but_no_amendment_is_refused(
    signed_assessment: SkinAssessment,
) -> None:
    signed_assessment.allergies = "Rewritten"
    signed_assessment.amendment_count = F("amendment_count") + 1
    with pytest.raises(IntegrityError), transaction.atomic():
        signed_assessment.save(update_fields=["allergies", "amendment_count"])
    _refused(
        "UPDATE treatments_skinassessment SET allergies = 'Rewritten',"
        " amendment_count = amendment_count + 1 WHERE id = %s",
        signed_assessment.pk,
    )

    signed_assessment.refresh_from_db()
    assert (signed_assessment.allergies, signed_assessment.amendment_count) == ("None known", 0)


def test_unsigning_a_signed_record_with_a_bumped_count_is_refused(
    signed_session: TreatmentSession, signed_assessment: SkinAssessment
) -> None:
    for table, pk in (
        ("treatments_treatmentsession", signed_session.pk),
        ("treatments_skinassessment", signed_assessment.pk),
    ):
        _refused(
            f"UPDATE {table} SET signed_at = NULL, signed_by_id = NULL,"  # noqa: S608 - fixed names
            " amendment_count = amendment_count + 1 WHERE id = %s",
            pk,
        )
    signed_session.signed_at = None
    signed_session.signed_by = None
    signed_session.amendment_count = 1
    with pytest.raises(IntegrityError), transaction.atomic():
        signed_session.save(update_fields=["signed_at", "signed_by", "amendment_count"])

    assert TreatmentSession.objects.get(pk=signed_session.pk).signed_at is not None
    assert SkinAssessment.objects.get(pk=signed_assessment.pk).signed_at is not None


def test_an_old_amendment_does_not_open_a_signed_record_again(
    signed_session: TreatmentSession, practitioner: Any
) -> None:
    session_amend(
        session=signed_session,
        record=session_record(practitioner, london(2026, 3, 2, 10), notes="Tolerated well"),
        reason="Notes forgotten",
        by=practitioner.user,
        now=london(2026, 3, 2, 12),
    )

    # The amendment numbered 1 exists, but not one for this change.
    _refused(
        "UPDATE treatments_treatmentsession SET notes = 'Rewritten' WHERE id = %s",
        signed_session.pk,
    )
    _refused(
        "UPDATE treatments_treatmentsession SET notes = 'Rewritten', amendment_count = 1"
        " WHERE id = %s",
        signed_session.pk,
    )

    assert TreatmentSession.objects.get(pk=signed_session.pk).notes == "Tolerated well"


def test_an_aftercare_note_cannot_be_deleted(signed_session: TreatmentSession) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        AftercareNote.objects.filter(session=signed_session).delete()
    _refused("DELETE FROM treatments_aftercarenote WHERE session_id = %s", signed_session.pk)

    assert AftercareNote.objects.filter(session=signed_session).exists()


def test_a_signed_session_cannot_be_deleted_even_without_its_aftercare_note(
    signed_session: TreatmentSession,
) -> None:
    # A signed session as an import would leave it: no aftercare note stands in the way.
    bare = TreatmentSession.objects.create(
        series=signed_session.series,
        number=2,
        practitioner=signed_session.practitioner,
        performed_at=london(2026, 3, 16, 10),
        duration_minutes=30,
        signed_at=london(2026, 3, 16, 11),
        signed_by=signed_session.signed_by,
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentSession.objects.filter(pk=bare.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        # The model's own delete skips the queryset's check and meets the database trigger.
        models.Model.delete(bare)
    _refused("DELETE FROM treatments_treatmentsession WHERE id = %s", bare.pk)

    assert TreatmentSession.objects.filter(pk=bare.pk).exists()


def test_a_signed_assessment_cannot_be_deleted(signed_assessment: SkinAssessment) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        SkinAssessment.objects.filter(pk=signed_assessment.pk).delete()
    _refused("DELETE FROM treatments_skinassessment WHERE id = %s", signed_assessment.pk)

    assert SkinAssessment.objects.filter(pk=signed_assessment.pk).exists()


def test_amendments_cannot_be_deleted(signed_session: TreatmentSession, practitioner: Any) -> None:
    amendment = session_amend(
        session=signed_session,
        record=session_record(practitioner, london(2026, 3, 2, 10), notes="Tolerated well"),
        reason="Notes forgotten",
        by=practitioner.user,
        now=london(2026, 3, 2, 12),
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        Amendment.objects.filter(pk=amendment.pk).delete()
    _refused("DELETE FROM treatments_amendment WHERE id = %s", amendment.pk)

    assert Amendment.objects.filter(pk=amendment.pk).exists()


def test_the_amend_services_still_change_signed_records_one_numbered_amendment_at_a_time(
    signed_session: TreatmentSession,
    signed_assessment: SkinAssessment,
    practitioner: Any,
) -> None:
    for notes in ("Tolerated well", "Tolerated well, slight redness"):
        session_amend(
            session=signed_session,
            record=session_record(practitioner, london(2026, 3, 2, 10), notes=notes),
            reason="Notes completed",
            by=practitioner.user,
            now=london(2026, 3, 2, 12),
        )
    for allergies in ("Lanolin", "Lanolin, latex"):
        assessment_amend(
            assessment=signed_assessment,
            user=practitioner.user,
            details=assessment_details(allergies=allergies),
            reason="Patient rang",
        )

    signed_session.refresh_from_db()
    signed_assessment.refresh_from_db()
    assert (signed_session.notes, signed_session.amendment_count) == (
        "Tolerated well, slight redness",
        2,
    )
    assert (signed_assessment.allergies, signed_assessment.amendment_count) == (
        "Lanolin, latex",
        2,
    )
    assert list(signed_session.amendments.values_list("sequence", flat=True)) == [1, 2]
    assert list(signed_assessment.amendments.values_list("sequence", flat=True)) == [1, 2]
