"""The benchmark's synthetic clinic (``manage.py bench_clinic``) is a clinic the app accepts:
the database constraints hold, series agree with their sessions, the calendar draws it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, F, Q
from django.utils import timezone

from bench.dataset import PRACTITIONER_COUNT, BenchSize, ClinicBuilder, bench_day
from bookings import selectors
from bookings.models import ACTIVE_STATUSES, Appointment
from clinic.models import Patient
from treatments.models import TreatmentSeries, TreatmentSession

pytestmark = pytest.mark.django_db

# Two months of history beyond the fixed coming weeks: enough for series to finish.
TINY = BenchSize("tiny", patients=1_000, appointments=30_000, sessions=2_000)


def build() -> dict[str, int]:
    return ClinicBuilder(size=TINY, log=lambda _line: None).build(vacuum=False)


def test_the_bench_clinic_is_written_only_to_postgresql(db: Any):
    if connection.vendor == "postgresql":
        counts = build()
        assert counts["patients"] == Patient.objects.count() == TINY.patients
        assert counts["appointments"] == Appointment.objects.count() == TINY.appointments
    else:
        with pytest.raises(RuntimeError, match="PostgreSQL only"):
            build()


@pytest.mark.postgres_only  # COPY needs PostgreSQL; SQLite's refusal is the test above
def test_the_bench_clinic_holds_together_and_the_calendar_draws_it(db: Any):
    counts = build()
    assert counts["history_days"] > 0
    assert counts["sessions"] >= TINY.sessions
    # Series agree with their signed sessions, each linked to its completed appointment.
    mismatched = TreatmentSeries.objects.annotate(
        signed=Count("sessions", filter=Q(sessions__signed_at__isnull=False))
    ).exclude(signed=F("completed_sessions"))
    assert not mismatched.exists()
    assert (
        Appointment.objects.filter(treatment_session__isnull=False, status="completed").count()
        == TreatmentSession.objects.count()
    )
    assert set(TreatmentSeries.objects.values_list("status", flat=True)) >= {
        "planned",
        "active",
        "completed",
        "maintenance",
    }
    # Upcoming appointments are all booked or confirmed; the exclusion constraints held.
    upcoming = Appointment.objects.filter(starts_at__gt=timezone.now() + dt.timedelta(hours=1))
    assert set(upcoming.values_list("status", flat=True)) <= set(ACTIVE_STATUSES)

    day = selectors.calendar_day(day=bench_day(), now=timezone.now())
    assert len(day.columns) == PRACTITIONER_COUNT
    assert day.appointment_count > 50
