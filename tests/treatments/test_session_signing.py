"""Signing locks a session and writes its aftercare note; after that only amendments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from tests.builders import (
    CRYSTAL_SETTINGS,
    logged_session,
    london,
    planned_series,
    session_record,
    signed_session,
    signed_sessions_every,
    treatment_type,
)
from treatments.choices import SeriesStatus
from treatments.models import AftercareNote, AftercareStatus, Amendment, TreatmentSession
from treatments.rules import SpacingViolation
from treatments.services.series import series_start_maintenance
from treatments.services.sessions import (
    SessionError,
    session_amend,
    session_sign,
    session_update_draft,
)

pytestmark = pytest.mark.django_db

START = dt.date(2026, 3, 2)


@pytest.fixture
def series(patient: Any, practitioner: Any) -> Any:
    return planned_series(patient, practitioner, start_on=START, planned_sessions=3)


def test_signing_locks_the_session_and_writes_the_aftercare_note(
    series: Any, practitioner: Any
) -> None:
    draft = logged_session(
        series,
        practitioner,
        london(2026, 3, 2, 10),
        aftercare_additions="Use the fragrance-free moisturiser we gave you.",
    )

    note = session_sign(session=draft, by=practitioner.user, now=london(2026, 3, 2, 10, 40))
    draft.refresh_from_db()

    assert draft.signed_at == london(2026, 3, 2, 10, 40)
    assert draft.signed_by == practitioner.user
    assert note.template_text == treatment_type().aftercare_template
    assert "sunscreen" in note.body
    assert note.body.endswith("Use the fragrance-free moisturiser we gave you.")
    assert note.status == AftercareStatus.PENDING


def test_a_patient_without_an_email_address_gets_a_note_marked_not_sent(
    series: Any, practitioner: Any, patient: Any
) -> None:
    patient.email = ""
    patient.save()

    session = signed_session(series, practitioner, london(2026, 3, 2, 10))

    assert session.aftercare_note.status == AftercareStatus.NOT_SENT


def test_a_session_is_signed_only_once(series: Any, practitioner: Any) -> None:
    session = signed_session(series, practitioner, london(2026, 3, 2, 10))

    with pytest.raises(SessionError, match="already signed"):
        session_sign(session=session, by=practitioner.user, now=london(2026, 3, 2, 12))
    assert AftercareNote.objects.filter(session=session).count() == 1


def test_a_signed_session_is_not_edited_as_a_draft(series: Any, practitioner: Any) -> None:
    session = signed_session(series, practitioner, london(2026, 3, 2, 10))

    with pytest.raises(SessionError, match="change it with an amendment"):
        session_update_draft(
            session=session,
            record=session_record(practitioner, london(2026, 3, 2, 10), redness="marked"),
            by=practitioner.user,
            now=london(2026, 3, 2, 12),
        )


def test_series_moves_from_planned_to_active_to_completed_as_sessions_are_signed(
    series: Any, practitioner: Any
) -> None:
    statuses = []
    for day in (london(2026, 3, 2, 10), london(2026, 3, 23, 10), london(2026, 4, 13, 10)):
        session = signed_session(series, practitioner, day)
        series.refresh_from_db()
        statuses.append((session.number, series.status, series.completed_sessions))

    assert statuses == [
        (1, SeriesStatus.ACTIVE, 1),
        (2, SeriesStatus.ACTIVE, 2),
        (3, SeriesStatus.COMPLETED, 3),
    ]
    assert series.last_session_on == dt.date(2026, 4, 13)


def test_a_completed_series_moves_on_to_maintenance(series: Any, practitioner: Any) -> None:
    signed_sessions_every(series, practitioner, first=london(2026, 3, 2, 10), count=3)

    series_start_maintenance(series=series)
    series.refresh_from_db()

    assert series.status == SeriesStatus.MAINTENANCE


def test_a_session_after_the_planned_ones_is_a_maintenance_session(
    series: Any, practitioner: Any
) -> None:
    signed_sessions_every(series, practitioner, first=london(2026, 3, 2, 10), count=3)

    upkeep = signed_session(series, practitioner, london(2026, 6, 1, 10))
    series.refresh_from_db()

    assert (upkeep.number, upkeep.is_maintenance, upkeep.overdue) == (4, True, False)
    assert (series.status, series.completed_sessions) == (SeriesStatus.MAINTENANCE, 4)


def test_the_database_refuses_a_silent_change_to_a_signed_session(
    series: Any, practitioner: Any
) -> None:
    session = signed_session(series, practitioner, london(2026, 3, 2, 10))
    session.redness = "none"

    with pytest.raises(IntegrityError), transaction.atomic():
        session.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentSession.objects.filter(pk=session.pk).update(signed_at=None, signed_by=None)
    session.refresh_from_db()

    assert (session.redness, session.signed_at) == ("mild", london(2026, 3, 2, 11))


def test_the_database_refuses_to_rewrite_an_aftercare_note(series: Any, practitioner: Any) -> None:
    session = signed_session(series, practitioner, london(2026, 3, 2, 10))

    with pytest.raises(IntegrityError), transaction.atomic():
        AftercareNote.objects.filter(session=session).update(template_text="Nothing to worry.")
    AftercareNote.objects.filter(session=session).update(status=AftercareStatus.SENT)

    assert session.aftercare_note.template_text == treatment_type().aftercare_template


def test_an_amendment_keeps_who_when_why_and_the_values_before_and_after(
    series: Any, practitioner: Any, second_practitioner: Any
) -> None:
    session = signed_session(series, practitioner, london(2026, 3, 2, 10))

    amendment = session_amend(
        session=session,
        record=session_record(
            practitioner,
            london(2026, 3, 2, 10),
            redness="moderate",
            parameters={**CRYSTAL_SETTINGS, "passes": 3},
        ),
        reason="Redness was moderate by the time the patient left",
        by=second_practitioner.user,
        now=london(2026, 3, 3, 9),
    )
    session.refresh_from_db()

    assert amendment.amended_by == second_practitioner.user
    assert amendment.reason == "Redness was moderate by the time the patient left"
    assert amendment.changes == {
        "parameters": {"before": CRYSTAL_SETTINGS, "after": {**CRYSTAL_SETTINGS, "passes": 3}},
        "redness": {"before": "mild", "after": "moderate"},
    }
    assert (session.redness, session.parameters["passes"], session.amendment_count) == (
        "moderate",
        3,
        1,
    )
    assert session.signed_by == practitioner.user


def test_the_database_refuses_to_change_an_amendment(series: Any, practitioner: Any) -> None:
    session = signed_session(series, practitioner, london(2026, 3, 2, 10))
    session_amend(
        session=session,
        record=session_record(practitioner, london(2026, 3, 2, 10), notes="Patient tolerated well"),
        reason="Notes forgotten",
        by=practitioner.user,
        now=london(2026, 3, 2, 12),
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        Amendment.objects.filter(session=session).update(reason="Nothing happened")


def test_an_amendment_needs_a_reason(series: Any, practitioner: Any) -> None:
    session = signed_session(series, practitioner, london(2026, 3, 2, 10))

    with pytest.raises(SessionError) as refused:
        session_amend(
            session=session,
            record=session_record(practitioner, london(2026, 3, 2, 10), redness="marked"),
            reason="  ",
            by=practitioner.user,
            now=london(2026, 3, 2, 12),
        )

    assert refused.value.errors == {"reason": "Give the reason for the amendment."}


def test_an_amendment_that_changes_nothing_is_refused(series: Any, practitioner: Any) -> None:
    session = signed_session(series, practitioner, london(2026, 3, 2, 10))

    with pytest.raises(SessionError, match="Nothing has changed"):
        session_amend(
            session=session,
            record=session_record(practitioner, london(2026, 3, 2, 10)),
            reason="Checking",
            by=practitioner.user,
            now=london(2026, 3, 2, 12),
        )
    assert session.amendments.count() == 0


def test_amending_a_date_keeps_14_days_from_both_neighbouring_sessions(
    series: Any, practitioner: Any
) -> None:
    _first, second, third = signed_sessions_every(
        series, practitioner, first=london(2026, 3, 2, 10), count=3
    )

    with pytest.raises(SpacingViolation, match="only 10 days before the next session"):
        session_amend(
            session=second,
            record=session_record(practitioner, london(2026, 4, 3, 10)),
            reason="Wrong date typed",
            by=practitioner.user,
            now=london(2026, 4, 20, 9),
        )
    session_amend(
        session=third,
        record=session_record(practitioner, london(2026, 4, 14, 10)),
        reason="Wrong date typed",
        by=practitioner.user,
        now=london(2026, 4, 20, 9),
    )
    series.refresh_from_db()

    assert series.last_session_on == dt.date(2026, 4, 14)
    assert third.amendments.get().changes["performed_at"] == {
        "before": "2026-04-13T10:00+01:00",
        "after": "2026-04-14T10:00+01:00",
    }
