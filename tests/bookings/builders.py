"""Building a bookable clinic for tests: hours, rooms, series with past sessions.

Times are Europe/London wall-clock times; ``MONDAY`` is 23 March 2026, the week before the
clocks go forward (Sunday 29 March).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from bookings.models import BookingSettings, WorkingHours
from clinic.models import OpeningHours, Patient, Practitioner, Room
from treatments.catalogue import DEFAULT_TREATMENT_TYPES
from treatments.choices import SeriesStatus
from treatments.models import TreatmentSeries, TreatmentSession, TreatmentType
from treatments.services.assessments import AssessmentDetails, assessment_record

LONDON = ZoneInfo("Europe/London")
CRYSTAL = "Crystal microdermabrasion"
MONDAY = dt.date(2026, 3, 23)


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """An aware moment at a clinic wall-clock time (stored as UTC by the ORM)."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)


def open_clinic(*, notice_minutes: int = 60) -> None:
    """Open 08:00-20:00 Monday to Friday, 09:00-17:00 Saturday; minimum notice as given."""
    for weekday in range(5):
        OpeningHours.objects.create(weekday=weekday, opens_at=dt.time(8), closes_at=dt.time(20))
    OpeningHours.objects.create(weekday=5, opens_at=dt.time(9), closes_at=dt.time(17))
    settings_row = BookingSettings.load()
    settings_row.minimum_notice_minutes = notice_minutes
    settings_row.save()


def working_week(practitioner: Practitioner, *, weekdays: Iterable[int] = range(5)) -> None:
    """09:00-18:00 with a break 13:00-13:45 on the given weekdays."""
    for weekday in weekdays:
        WorkingHours.objects.create(
            practitioner=practitioner,
            weekday=weekday,
            starts_at=dt.time(9),
            ends_at=dt.time(18),
            break_starts_at=dt.time(13),
            break_ends_at=dt.time(13, 45),
        )


def crystal_with_room(room_name: str = "Room 1") -> TreatmentType:
    """Crystal microdermabrasion (30 min + 10 min cleanup) hosted in one room."""
    # The catalogue comes from a data migration; transactional tests flush it, so re-create.
    defaults = next(entry for entry in DEFAULT_TREATMENT_TYPES if entry["name"] == CRYSTAL)
    treatment_type, _ = TreatmentType.objects.get_or_create(name=CRYSTAL, defaults=defaults)
    room, _ = Room.objects.get_or_create(name=room_name)
    treatment_type.rooms.add(room)
    return treatment_type


def assess(patient: Patient, *, by: Any, contraindications: Iterable[str] = ()) -> Any:
    """Record a signed assessment through the assessment service."""
    return assessment_record(
        patient=patient,
        user=by,
        details=AssessmentDetails(
            assessed_on=dt.date(2026, 1, 10),
            fitzpatrick=2,
            skin_type="normal",
            concerns={"dull_rough": "mild"},
            scar_type="none",
            contraindications=frozenset(contraindications),
        ),
        sign=True,
        now=local(dt.date(2026, 1, 10), 10),
    )


def series_after_sessions(
    *,
    patient: Patient,
    practitioner: Practitioner,
    treatment_type: TreatmentType,
    session_days: list[dt.date],
    planned: int = 6,
    override_reason: str = "",
) -> TreatmentSeries:
    """An active series whose first sessions were done and signed on ``session_days``.

    Written as the session services leave it (signed sessions, ``last_session_on`` and
    ``completed_sessions`` kept on the series), as ``seed_demo`` does for past history.
    """
    series = TreatmentSeries.objects.create(
        patient=patient,
        treatment_type=treatment_type,
        planned_by=practitioner,
        planned_sessions=planned,
        start_on=session_days[0] if session_days else MONDAY,
        status=SeriesStatus.ACTIVE if session_days else SeriesStatus.PLANNED,
        suitability_override_reason=override_reason,
    )
    for number, day in enumerate(session_days, start=1):
        TreatmentSession.objects.create(
            series=series,
            number=number,
            practitioner=practitioner,
            performed_at=local(day, 10),
            areas=["face"],
            parameters={},
            duration_minutes=30,
            signed_at=local(day, 10, 45),
            signed_by=practitioner.user,
        )
    if session_days:
        series.last_session_on = session_days[-1]
        series.completed_sessions = len(session_days)
        series.save(update_fields=["last_session_on", "completed_sessions"])
    return series
