"""The demo clinic's series are ones the app itself could have produced."""

from __future__ import annotations

from io import StringIO
from itertools import pairwise
from typing import Any

import pytest
from django.core.management import call_command

from clinic.clock import local_day
from treatments.models import AftercareNote, TreatmentSeries, TreatmentSession
from treatments.parameters import clean_parameters

pytestmark = pytest.mark.django_db


def test_demo_sessions_record_every_parameter_in_range_and_keep_their_spacing(
    settings: Any,
) -> None:
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())

    sessions = list(
        TreatmentSession.objects.select_related("series__treatment_type").order_by(
            "series", "number"
        )
    )
    assert sessions
    for session in sessions:
        specs = session.series.treatment_type.parameter_specs
        assert clean_parameters(specs, session.parameters) == session.parameters
    for previous, following in pairwise(sessions):
        if previous.series_id == following.series_id:
            gap = (local_day(following.performed_at) - local_day(previous.performed_at)).days
            assert gap >= previous.series.treatment_type.min_interval_days
    for series in TreatmentSeries.objects.all():
        assert series.completed_sessions == series.sessions.filter(signed_at__isnull=False).count()
    assert AftercareNote.objects.count() == len(sessions)
