"""Configuration writes go through one service per entity, which checks the rules and writes
an audit entry, whatever page (or command) calls it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from bookings.models import BookingSettings, TimeOff, WorkingHours
from bookings.rules import BookingError, HoursRefused, working_day_problems
from bookings.services import availability
from clinic.models import AuditAction, AuditEntry, ClinicClosure, OpeningHours, Room
from clinic.services import practitioner_save
from tests.builders import open_clinic_business_hours
from tests.factories import PractitionerFactory
from treatments.models import TreatmentType
from treatments.services.catalogue import CatalogueError, treatment_type_save

pytestmark = pytest.mark.django_db

NINE_TO_FIVE = [(dt.time(9), dt.time(17))]


def day(weekday: int, starts: int, ends: int, breaks: tuple[int, int] | None = None) -> dict:
    return {
        "weekday": weekday,
        "works": True,
        "starts_at": dt.time(starts),
        "ends_at": dt.time(ends),
        "break_starts_at": dt.time(breaks[0]) if breaks else None,
        "break_ends_at": dt.time(breaks[1]) if breaks else None,
    }


# --- Working hours inside opening hours ------------------------------------------------------


def test_working_hours_outside_the_clinics_opening_hours_are_refused_with_its_hours(
    practitioner: Any,
) -> None:
    OpeningHours.objects.create(weekday=0, opens_at=dt.time(9), closes_at=dt.time(17))

    with pytest.raises(HoursRefused) as refused:
        availability.working_week_set(practitioner=practitioner, days=[day(0, 8, 18)])

    assert refused.value.message == (
        "Working hours on Monday (08:00-18:00) must lie within the clinic's opening hours "
        "that day: 09:00-17:00."
    )
    assert not WorkingHours.objects.exists()


def test_working_hours_outside_opening_hours_are_refused_on_the_page_with_the_clinics_hours(
    client: Any, manager: Any, practitioner: Any
) -> None:
    OpeningHours.objects.create(weekday=1, opens_at=dt.time(9), closes_at=dt.time(17))
    client.force_login(manager)
    data = {"day-TOTAL_FORMS": "7", "day-INITIAL_FORMS": "7"}
    for weekday in range(7):
        data[f"day-{weekday}-weekday"] = str(weekday)
    data.update({"day-1-works": "on", "day-1-starts_at": "07:30", "day-1-ends_at": "16:00"})

    response = client.post(f"/availability/working-hours/{practitioner.pk}/", data)

    assert response.status_code == 200
    assert "opening hours that day: 09:00-17:00." in response.content.decode()
    assert not WorkingHours.objects.exists()


@pytest.mark.parametrize(
    ("opening", "worked", "refused"),
    [
        (NINE_TO_FIVE, (9, 17, None), False),
        (NINE_TO_FIVE, (10, 16, (12, 13)), False),
        (NINE_TO_FIVE, (8, 17, None), True),
        (NINE_TO_FIVE, (9, 18, None), True),
        ([], (9, 17, None), True),  # the clinic is closed that weekday
        # Closed at lunch: a day across it fits only when the break covers the closure.
        ([(dt.time(9), dt.time(12)), (dt.time(13), dt.time(17))], (9, 17, (12, 13)), False),
        ([(dt.time(9), dt.time(12)), (dt.time(13), dt.time(17))], (9, 17, None), True),
        # Two spans that touch are one opening.
        ([(dt.time(9), dt.time(12)), (dt.time(12), dt.time(17))], (9, 17, None), False),
    ],
)
def test_a_working_day_must_lie_inside_the_opening_hours_of_its_weekday(
    opening: list, worked: tuple, refused: bool
) -> None:
    starts, ends, breaks = worked
    problems = working_day_problems(
        row=0,
        weekday=0,
        starts_at=dt.time(starts),
        ends_at=dt.time(ends),
        break_starts_at=dt.time(breaks[0]) if breaks else None,
        break_ends_at=dt.time(breaks[1]) if breaks else None,
        opening=opening,
    )
    assert bool(problems) is refused


def test_a_working_day_on_a_closed_weekday_says_the_clinic_is_closed() -> None:
    (problem,) = working_day_problems(
        row=3,
        weekday=6,
        starts_at=dt.time(9),
        ends_at=dt.time(17),
        break_starts_at=None,
        break_ends_at=None,
        opening=[],
    )
    assert (problem.row, problem.field) == (3, "starts_at")
    assert problem.message.startswith("The clinic is closed on Sundays")


# --- The services check what their forms checked ----------------------------------------------


def test_opening_hours_that_close_before_they_open_are_refused_by_the_service() -> None:
    with pytest.raises(HoursRefused, match=r"Closing time must be after opening time\."):
        availability.opening_hours_set(spans=[(0, dt.time(17), dt.time(9))])
    with pytest.raises(HoursRefused, match=r"Overlaps other hours on Tuesday\."):
        availability.opening_hours_set(
            spans=[(1, dt.time(9), dt.time(13)), (1, dt.time(12), dt.time(18))]
        )
    assert not OpeningHours.objects.exists()


@pytest.mark.parametrize(
    ("notice", "horizon"), [(-1, 180), (60 * 24 * 14 + 1, 180), (60, 0), (60, 731)]
)
def test_booking_settings_out_of_range_are_refused_by_the_service(
    notice: int, horizon: int
) -> None:
    with pytest.raises(BookingError):
        availability.booking_settings_update(minimum_notice_minutes=notice, horizon_days=horizon)
    assert not BookingSettings.objects.exists()


def test_a_room_needs_a_name_no_other_room_has() -> None:
    Room.objects.create(name="Room 1")
    with pytest.raises(BookingError, match=r"Enter the room's name\."):
        availability.room_save(room=Room(), name="  ", is_active=True, treatment_types=[])
    with pytest.raises(BookingError, match=r"There is already a room called room 1\."):
        availability.room_save(room=Room(), name="room 1", is_active=True, treatment_types=[])
    assert Room.objects.count() == 1


# --- Every configuration service writes an audit entry ----------------------------------------


def _crystal_values(**changes: Any) -> dict[str, Any]:
    crystal = TreatmentType.objects.get(name="Crystal microdermabrasion")
    fields = ["name", "modality", "description", "aftercare_template", "is_active"]
    numbers = [
        "default_duration_minutes",
        "extra_area_minutes",
        "buffer_minutes",
        "min_interval_days",
        "max_interval_days",
        "maintenance_interval_days",
        "sessions_mild",
        "sessions_moderate",
        "sessions_severe",
    ]
    return {name: getattr(crystal, name) for name in [*fields, *numbers]} | changes


def _change_crystal() -> None:
    crystal = TreatmentType.objects.get(name="Crystal microdermabrasion")
    treatment_type_save(
        treatment_type=crystal,
        values=_crystal_values(default_duration_minutes=35),
        parameters=crystal.parameter_schema,
        rooms=list(crystal.rooms.all()),
    )


def _tomorrow() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=1)


CONFIGURATION_WRITES: dict[str, tuple[Callable[[Any], Any], str, str]] = {
    "treatment_type_save": (lambda p: _change_crystal(), "treatments.treatmenttype", "change"),
    "opening_hours_set": (
        lambda p: availability.opening_hours_set(spans=[(0, dt.time(9), dt.time(16))]),
        "clinic.openinghours",
        "change",
    ),
    "working_week_set": (
        lambda p: availability.working_week_set(practitioner=p, days=[day(0, 9, 16)]),
        "bookings.workinghours",
        "change",
    ),
    "room_save": (
        lambda p: availability.room_save(
            room=Room(), name="Room 7", is_active=True, treatment_types=[]
        ),
        "clinic.room",
        "create",
    ),
    "booking_settings_update": (
        lambda p: availability.booking_settings_update(minimum_notice_minutes=120, horizon_days=90),
        "bookings.bookingsettings",
        "change",
    ),
    "closure_add": (
        lambda p: availability.closure_add(date=dt.date(2031, 1, 1), reason="New Year", tz=dt.UTC),
        "clinic.clinicclosure",
        "create",
    ),
    "closure_remove": (
        lambda p: availability.closure_remove(
            closure=ClinicClosure.objects.create(date=dt.date(2031, 1, 2), reason="Training")
        ),
        "clinic.clinicclosure",
        "delete",
    ),
    "time_off_add": (
        lambda p: availability.time_off_add(
            practitioner=p, starts_at=_tomorrow(), ends_at=_tomorrow() + dt.timedelta(hours=2)
        ),
        "bookings.timeoff",
        "create",
    ),
    "time_off_remove": (
        lambda p: availability.time_off_remove(
            entry=TimeOff.objects.create(
                practitioner=p, starts_at=_tomorrow(), ends_at=_tomorrow() + dt.timedelta(hours=1)
            )
        ),
        "bookings.timeoff",
        "delete",
    ),
    "practitioner_save": (
        lambda p: practitioner_save(practitioner=PractitionerFactory.build(display_name="Ines")),
        "clinic.practitioner",
        "create",
    ),
}


@pytest.mark.parametrize("service", list(CONFIGURATION_WRITES))
def test_every_configuration_service_writes_an_audit_entry(service: str, practitioner: Any) -> None:
    open_clinic_business_hours()
    write, object_type, action = CONFIGURATION_WRITES[service]
    entries_before = AuditEntry.objects.count()

    write(practitioner)

    entry = AuditEntry.objects.order_by("-seq").first()
    assert AuditEntry.objects.count() == entries_before + 1
    assert (entry.object_type, entry.action) == (object_type, action)
    assert entry.before or entry.after


def test_a_zero_minute_treatment_is_refused_by_the_catalogue_service() -> None:
    crystal = TreatmentType.objects.get(name="Crystal microdermabrasion")
    with pytest.raises(CatalogueError) as refused:
        treatment_type_save(
            treatment_type=crystal,
            values=_crystal_values(default_duration_minutes=0),
            parameters=crystal.parameter_schema,
            rooms=[],
        )
    assert refused.value.errors["default_duration_minutes"] == (
        "The face duration must be between 5 and 240."
    )
    assert AuditAction.CHANGE not in AuditEntry.objects.values_list("action", flat=True)
