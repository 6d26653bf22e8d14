"""The hand-over to whoever emails aftercare notes: claim once, then mark sent or not sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.builders import london, planned_series, signed_session
from treatments.models import AftercareStatus
from treatments.selectors_series import aftercare_notes_to_send
from treatments.services.aftercare import (
    aftercare_claim,
    aftercare_mark_not_sent,
    aftercare_mark_sent,
    aftercare_release,
)

pytestmark = pytest.mark.django_db

NOW = london(2026, 3, 2, 11)


@pytest.fixture
def note(patient: Any, practitioner: Any) -> Any:
    series = planned_series(patient, practitioner, start_on=dt.date(2026, 3, 2))
    return signed_session(series, practitioner, london(2026, 3, 2, 10)).aftercare_note


def test_a_signed_session_leaves_its_note_waiting_for_the_sender(note: Any) -> None:
    assert aftercare_notes_to_send() == [note.pk]


def test_a_note_is_claimed_by_one_sender_only(note: Any) -> None:
    first = aftercare_claim(note_id=note.pk, now=NOW)
    second = aftercare_claim(note_id=note.pk, now=NOW + dt.timedelta(minutes=1))

    assert first is not None
    assert first.session.series.patient.email == "zoe@patients.example"
    assert second is None
    assert aftercare_notes_to_send() == []


def test_a_claim_abandoned_by_a_crashed_sender_can_be_taken_again(note: Any) -> None:
    aftercare_claim(note_id=note.pk, now=NOW)

    assert aftercare_claim(note_id=note.pk, now=NOW + dt.timedelta(minutes=5)) is None
    assert aftercare_claim(note_id=note.pk, now=NOW + dt.timedelta(minutes=16)) is not None


def test_a_sent_note_is_never_claimed_again(note: Any) -> None:
    claimed = aftercare_claim(note_id=note.pk, now=NOW)

    assert aftercare_mark_sent(note=claimed, now=NOW + dt.timedelta(seconds=3)) is True
    note.refresh_from_db()
    assert (note.status, note.sent_at) == (AftercareStatus.SENT, NOW + dt.timedelta(seconds=3))
    assert aftercare_claim(note_id=note.pk, now=NOW + dt.timedelta(days=1)) is None


def test_a_failed_send_is_handed_back_for_a_retry(note: Any) -> None:
    claimed = aftercare_claim(note_id=note.pk, now=NOW)

    assert aftercare_release(note=claimed) is True
    assert aftercare_notes_to_send() == [note.pk]


def test_a_note_the_sender_will_not_email_is_marked_not_sent(note: Any) -> None:
    assert aftercare_mark_not_sent(note=note) is True
    note.refresh_from_db()

    assert note.status == AftercareStatus.NOT_SENT
    assert aftercare_notes_to_send() == []
