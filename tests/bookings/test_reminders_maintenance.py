"""Maintenance reminders: each treatment's own interval, and an idle sweep that does not read
the series it mailed already (``bookings.reminders.sweep_maintenance``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.reminders import maintenance_key, sweep_maintenance
from clinic.models import MessageKind
from tests.builders import (
    book,
    ledger,
    london,
    open_clinic_every_day,
    sent_to,
    series_after_sessions,
    sweep,
)
from tests.factories import PatientFactory
from treatments.models import TreatmentSeries, TreatmentType

pytestmark = pytest.mark.django_db

FIRST_SESSION = london(2026, 5, 4, 10)  # a Monday; the second session is Monday 25 May


@pytest.fixture
def clinic(practitioner: Any) -> Any:
    return open_clinic_every_day(practitioner)


def completed_series(patient: Any, practitioner: Any) -> TreatmentSeries:
    sessions = [FIRST_SESSION + dt.timedelta(days=21 * number) for number in range(2)]
    return series_after_sessions(
        patient=patient, practitioner=practitioner, performed=sessions, planned=2
    )


def maintenance_subjects(address: str) -> list[str]:
    return [m.subject for m in sent_to(address) if "maintenance" in m.subject]


def test_each_treatment_is_reminded_after_its_own_maintenance_interval(clinic, practitioner):
    monthly, quarterly = PatientFactory(), PatientFactory()
    completed_series(monthly, practitioner)
    series = completed_series(quarterly, practitioner)
    diamond = TreatmentType.objects.get(name="Diamond-tip microdermabrasion")
    TreatmentType.objects.filter(pk=diamond.pk).update(maintenance_interval_days=90)
    TreatmentSeries.objects.filter(pk=series.pk).update(treatment_type=diamond)

    # 25 July: 61 days after the last session. The 30-day reminder was due on 24 June and is
    # past its window (nothing was running); the 90-day one is not due yet.
    sweep(london(2026, 7, 25, 9))
    assert ledger(kind=MessageKind.MAINTENANCE_REMINDER) == []

    sweep(london(2026, 8, 23, 8, 59))  # 90 days after 25 May, before the send hour
    assert maintenance_subjects(quarterly.email) == []
    sweep(london(2026, 8, 23, 9))
    sweep(london(2026, 11, 20, 9))  # the last day of its window: already sent, not again

    assert maintenance_subjects(quarterly.email) == [
        "Time for a Diamond-tip microdermabrasion maintenance session"
    ]
    assert maintenance_subjects(monthly.email) == []


def test_a_maintenance_reminder_that_went_is_not_read_again(clinic, practitioner, patient):
    series = completed_series(patient, practitioner)
    sweep(london(2026, 6, 24, 9))  # due 30 days after Monday 25 May
    [message] = ledger(kind=MessageKind.MAINTENANCE_REMINDER)
    assert message.idempotency_key == maintenance_key(
        series_id=series.pk, last_session_on=dt.date(2026, 5, 25)
    )

    later = london(2026, 7, 1, 9)
    with CaptureQueriesContext(connection) as queries:
        if connection.vendor == "postgresql":  # the key is built in SQL: not from DateStyle
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL DateStyle = 'SQL, DMY'")
        assert sweep_maintenance(now=later) == []

    # The treatments' intervals, then the series in their window still to be mailed: none.
    sweep_reads = [q for q in queries if "DateStyle" not in q["sql"]]
    assert len(sweep_reads) == 2


def test_a_series_with_a_session_booked_ahead_is_checked_but_not_mailed(
    clinic, practitioner, patient
):
    completed_series(patient, practitioner)
    book(patient, practitioner, london(2026, 7, 6, 10), when=london(2026, 6, 1, 12))

    with CaptureQueriesContext(connection) as queries:
        assert sweep_maintenance(now=london(2026, 6, 24, 9)) == []

    # Intervals, the series not mailed yet, then those checked for a booking ahead.
    assert len(queries) == 3
    assert ledger(kind=MessageKind.MAINTENANCE_REMINDER) == []
