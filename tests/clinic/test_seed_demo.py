from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from bookings.models import ACTIVE_STATUSES, Appointment
from clinic.models import Patient, Practitioner, Room
from treatments.models import SkinAssessment, TreatmentSeries, TreatmentSession, TreatmentType

pytestmark = pytest.mark.django_db

MODELS = [
    Practitioner,
    Room,
    TreatmentType,
    Patient,
    SkinAssessment,
    TreatmentSeries,
    TreatmentSession,
    Appointment,
    get_user_model(),
]


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_builds_a_believable_clinic(settings: Any, time_machine: Any):
    # A weekday morning: appointments due within two hours exist only while the clinic is
    # open (seed_demo obeys opening and working hours).
    time_machine.move_to(dt.datetime(2026, 12, 3, 9, 4, tzinfo=dt.UTC), tick=False)
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())

    assert Practitioner.objects.count() == 3
    assert Room.objects.count() == 3
    assert TreatmentType.objects.count() >= 3
    assert Patient.objects.count() >= 30
    now = timezone.now()
    upcoming = Appointment.objects.filter(status__in=ACTIVE_STATUSES, starts_at__gt=now)
    assert upcoming.filter(starts_at__lte=now + dt.timedelta(hours=2)).exists()
    assert upcoming.filter(starts_at__lte=now + dt.timedelta(hours=48)).count() >= 3
    assert upcoming.filter(starts_at__lte=now + dt.timedelta(days=7)).count() >= 15
    # Patients in different stages: new, assessed, not suitable, in a series.
    assert Patient.objects.filter(assessments__isnull=True).exists()
    assert SkinAssessment.objects.filter(outcome="not_suitable").exists()
    assert TreatmentSeries.objects.filter(status="active").count() >= 10
    for username in ["reception", "practitioner", "manager"]:
        assert get_user_model().objects.get(username=username).check_password("clinic-demo")


def test_seed_demo_twice_gives_the_same_counts(settings: Any):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    first = counts()
    call_command("seed_demo", stdout=StringIO())
    assert counts() == first


def test_seed_demo_uses_demo_password_from_the_environment(settings: Any, monkeypatch: Any):
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_PASSWORD", "another-demo-pass")
    call_command("seed_demo", stdout=StringIO())
    assert get_user_model().objects.get(username="manager").check_password("another-demo-pass")


def test_seed_demo_refuses_to_run_with_debug_off(settings: Any):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refuses to run with DJANGO_DEBUG off"):
        call_command("seed_demo", stdout=StringIO())
    assert Patient.objects.count() == 0


def test_seed_demo_runs_with_debug_off_when_forced(settings: Any):
    settings.DEBUG = False
    call_command("seed_demo", "--force", stdout=StringIO())
    assert Patient.objects.count() >= 30


def test_demo_patients_have_readable_ascii_emails(settings: Any):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())

    assert Patient.objects.filter(email="siobhan.oconnor@demo.clinic.example").exists()
    assert Patient.objects.filter(email="zoe.adeyemi@demo.clinic.example").exists()
