"""Aftercare after signing, next-session follow-ups and maintenance reminders."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clinic.models import MessageKind, MessageStatus
from tests.builders import (
    book,
    ledger,
    london,
    open_clinic_every_day,
    sent_to,
    series_after_sessions,
    sweep,
)
from treatments.models import AftercareNote, AftercareStatus

pytestmark = pytest.mark.django_db

FIRST_SESSION = london(2026, 5, 4, 10)  # a Monday


@pytest.fixture
def clinic(practitioner: Any) -> Any:
    return open_clinic_every_day(practitioner)


def subjects(address: str) -> list[str]:
    return [message.subject for message in sent_to(address)]


# -- aftercare -------------------------------------------------------------------------------


def test_aftercare_note_is_emailed_on_the_sweep_after_signing(clinic, practitioner, patient):
    series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        performed=[FIRST_SESSION],
        aftercare_additions="Skip your retinol cream until Friday.",
    )
    signed_at = FIRST_SESSION + dt.timedelta(minutes=40)
    sweep(signed_at + dt.timedelta(minutes=1))
    sweep(signed_at + dt.timedelta(minutes=2))

    [aftercare] = sent_to(patient.email)
    assert aftercare.subject == (
        "Aftercare for your Crystal microdermabrasion on Monday 4 May 2026"
    )
    assert "Wear a broad-spectrum sunscreen" in aftercare.body
    assert "Skip your retinol cream until Friday." in aftercare.body
    # The session's clinical record stays out of the email.
    assert "erythema" not in aftercare.body
    assert "intensity" not in aftercare.body.lower()
    note = AftercareNote.objects.get()
    assert note.status == AftercareStatus.SENT
    [row] = ledger(kind=MessageKind.AFTERCARE)
    assert row.idempotency_key == f"aftercare:session:{note.session_id}"


def test_aftercare_is_not_emailed_without_consent_and_the_note_says_so(
    clinic, practitioner, opted_out_patient
):
    series_after_sessions(
        patient=opted_out_patient, practitioner=practitioner, performed=[FIRST_SESSION]
    )
    sweep(FIRST_SESSION + dt.timedelta(hours=1))

    assert sent_to(opted_out_patient.email) == []
    assert AftercareNote.objects.get().status == AftercareStatus.NOT_SENT
    [row] = ledger(kind=MessageKind.AFTERCARE)
    assert row.status == MessageStatus.SKIPPED


# -- follow-ups ------------------------------------------------------------------------------

# One session on Monday 4 May: the window for the next is 18 May (14 days) to 1 June (28).


def test_follow_up_goes_when_the_window_opens_and_nothing_is_booked(clinic, practitioner, patient):
    series_after_sessions(patient=patient, practitioner=practitioner, performed=[FIRST_SESSION])
    sweep(london(2026, 5, 18, 8, 59))
    assert not any("next" in subject for subject in subjects(patient.email))

    sweep(london(2026, 5, 18, 9))
    sweep(london(2026, 5, 18, 9, 1))

    followups = [s for s in subjects(patient.email) if "next" in s]
    assert followups == ["Time to book your next Crystal microdermabrasion session"]
    [message] = [m for m in sent_to(patient.email) if "next" in m.subject]
    assert "Monday 18 May 2026" in message.body
    assert "Monday 1 June 2026" in message.body
    assert "/p/pick/" in message.body
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_follow_up_goes_once_more_when_the_window_is_about_to_close(clinic, practitioner, patient):
    series_after_sessions(patient=patient, practitioner=practitioner, performed=[FIRST_SESSION])
    sweep(london(2026, 5, 18, 9))
    sweep(london(2026, 5, 25, 8, 59))
    sweep(london(2026, 5, 25, 9))
    sweep(london(2026, 5, 30, 9))
    sweep(london(2026, 6, 2, 9))  # the window has closed: staff's due list takes over

    followups = [s for s in subjects(patient.email) if "session" in s and "Aftercare" not in s]
    assert followups == [
        "Time to book your next Crystal microdermabrasion session",
        "Last days to book your next Crystal microdermabrasion session",
    ]


def test_no_follow_up_while_the_next_session_is_booked(clinic, practitioner, patient):
    series = series_after_sessions(
        patient=patient, practitioner=practitioner, performed=[FIRST_SESSION]
    )
    book(
        patient,
        practitioner,
        london(2026, 5, 27, 10),
        when=london(2026, 5, 5, 12),
        series=series,
    )
    sweep(london(2026, 5, 18, 9))
    sweep(london(2026, 5, 25, 9))

    assert not any("next" in subject for subject in subjects(patient.email))
    assert ledger(kind=MessageKind.SERIES_FOLLOWUP) == []


def test_follow_up_after_downtime_sends_only_the_closing_one(clinic, practitioner, patient):
    series_after_sessions(patient=patient, practitioner=practitioner, performed=[FIRST_SESSION])
    sweep(london(2026, 5, 26, 12))

    followups = [s for s in subjects(patient.email) if "next" in s]
    assert followups == ["Last days to book your next Crystal microdermabrasion session"]


def test_follow_up_respects_the_follow_up_opt_out(clinic, practitioner, patient):
    patient.followup_opt_out = True
    patient.save()
    series_after_sessions(patient=patient, practitioner=practitioner, performed=[FIRST_SESSION])
    sweep(london(2026, 5, 18, 9))

    assert not any("next" in subject for subject in subjects(patient.email))
    [row] = ledger(kind=MessageKind.SERIES_FOLLOWUP)
    assert row.status == MessageStatus.SKIPPED
    assert row.skip_reason == "The patient opted out of follow-up emails."


# -- maintenance -----------------------------------------------------------------------------


def test_maintenance_reminder_goes_once_at_the_interval_after_a_completed_series(
    clinic, practitioner, patient
):
    sessions = [FIRST_SESSION + dt.timedelta(days=21 * number) for number in range(2)]
    series = series_after_sessions(
        patient=patient, practitioner=practitioner, performed=sessions, planned=2
    )
    assert series.status == "completed"
    last = sessions[-1].date()  # Monday 25 May; maintenance due 30 days later, 24 June
    sweep(london(2026, 6, 24, 8, 59))
    assert not any("maintenance" in subject for subject in subjects(patient.email))

    sweep(london(2026, 6, 24, 9))
    sweep(london(2026, 7, 10, 9))

    maintenance = [m for m in sent_to(patient.email) if "maintenance" in m.subject]
    assert [m.subject for m in maintenance] == [
        "Time for a Crystal microdermabrasion maintenance session"
    ]
    assert "Monday 25 May 2026" in maintenance[0].body
    assert "List-Unsubscribe" in maintenance[0].extra_headers
    assert last == dt.date(2026, 5, 25)


def test_no_maintenance_reminder_when_a_session_is_booked(clinic, practitioner, patient):
    sessions = [FIRST_SESSION + dt.timedelta(days=21 * number) for number in range(2)]
    series_after_sessions(patient=patient, practitioner=practitioner, performed=sessions, planned=2)
    book(patient, practitioner, london(2026, 6, 29, 10), when=london(2026, 6, 1, 12))
    sweep(london(2026, 6, 24, 9))

    assert ledger(kind=MessageKind.MAINTENANCE_REMINDER) == []
