"""Shared reads for bookings: slot search, the calendar, the due list, appointment pages.

Each reader runs a fixed number of queries however many appointments exist (tests pin the
counts), then hands plain values to the pure rules in :mod:`bookings.slots`,
:mod:`bookings.calendar` and :mod:`bookings.rules`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TimeField,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.urls import reverse

from bookings import calendar as grid
from bookings import rules as booking_rules
from bookings import slots
from bookings.models import (
    ACTIVE_STATUSES,
    SESSION_HOLDING_STATUSES,
    Appointment,
    AppointmentChange,
    AppointmentStatus,
    BookingSettings,
    TimeOff,
    WorkingHours,
)
from clinic import clock, timeline
from clinic.formats import long_date
from clinic.models import (
    ClinicClosure,
    OpeningHours,
    Patient,
    Practitioner,
    Room,
    normalise_for_search,
)
from treatments import rules as treatment_rules
from treatments.choices import SeriesStatus
from treatments.models import TreatmentSeries, TreatmentSession, TreatmentType
from treatments.selectors import latest_screening

DAY_VIEW_DEFAULT_HOURS = (time(8), time(20))
OPEN_SERIES_STATUSES = (SeriesStatus.PLANNED, SeriesStatus.ACTIVE)
# No appointment lasts a day (each fits inside one day's working hours). Overlap filters
# ("starts before the end and ends after the start") also say "starts at most this long
# before the start", so PostgreSQL reads a day's slice of the starts_at index instead of the
# whole history (500,000 rows: 280 ms for a day calendar before, 1 ms after).
LONGEST_APPOINTMENT = timedelta(days=1)


def booking_settings() -> BookingSettings:
    return BookingSettings.load()


def _day_bounds(first_day: date, last_day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC moments around whole clinic-local days (a day on each side for long entries)."""
    return clock.day_bounds(first_day - timedelta(days=1), last_day + timedelta(days=1), tz)


# ---------------------------------------------------------------------------------------------
# Availability: the clinic, practitioners and rooms over a date range
# ---------------------------------------------------------------------------------------------


def clinic_calendar(first_day: date, last_day: date) -> slots.ClinicCalendar:
    """Opening hours and the closures in a range: one query (a UNION of the two tables)."""
    hours = OpeningHours.objects.order_by().values_list(
        Value("hours", output_field=CharField()),
        "weekday",
        "opens_at",
        "closes_at",
        Value(None, output_field=DateField()),
        Value("", output_field=CharField()),
    )
    closed = (
        ClinicClosure.objects.filter(date__range=(first_day, last_day))
        .order_by()
        .values_list(
            Value("closure", output_field=CharField()),
            Value(None, output_field=IntegerField()),
            Value(None, output_field=TimeField()),
            Value(None, output_field=TimeField()),
            "date",
            "reason",
        )
    )
    opening: dict[int, list[tuple[time, time]]] = defaultdict(list)
    closures: dict[date, str] = {}
    for kind, weekday, opens_at, closes_at, day, reason in hours.union(closed, all=True):
        if kind == "hours":
            opening[weekday].append((opens_at, closes_at))
        else:
            closures[day] = reason
    for spans in opening.values():
        spans.sort()
    return slots.ClinicCalendar(
        tz=clock.clinic_tz(),
        opening=dict(sorted(opening.items())),
        closures=frozenset(closures),
        closure_reasons=closures,
    )


def _interval(start: datetime, end: datetime) -> slots.Interval | None:
    return slots.Interval(start, end) if end > start else None


@lru_cache(maxsize=4096)
def _taken(start: datetime, end: datetime) -> slots.Interval:
    """The interval an appointment takes (it lasts: the database checks ``ends_at >
    starts_at``). Cached: the practitioner's and the room's diaries share one object, and
    a busy fortnight repeats the same times."""
    return slots.Interval(start, end)


def practitioner_diaries(
    practitioners: Sequence[Practitioner],
    first_day: date,
    last_day: date,
    *,
    appointments: Iterable[Any],
    time_off: Mapping[int, Sequence[slots.Interval]] | None = None,
) -> list[slots.PractitionerDiary]:
    """Working hours and time off (two queries; one when the caller loaded ``time_off``)
    plus the given active appointments."""
    ids = [practitioner.pk for practitioner in practitioners]
    start, end = _day_bounds(first_day, last_day, clock.clinic_tz())
    hours: dict[int, dict[int, slots.DayHours]] = defaultdict(dict)
    for practitioner_id, weekday, *day_hours in WorkingHours.objects.filter(
        practitioner_id__in=ids
    ).values_list(
        "practitioner_id", "weekday", "starts_at", "ends_at", "break_starts_at", "break_ends_at"
    ):
        # Types: closed days are skipped above: both times are set.
        hours[practitioner_id][weekday] = slots.DayHours(*day_hours)  # type: ignore[arg-type]
    if time_off is None:
        loaded: dict[int, list[slots.Interval]] = defaultdict(list)
        for practitioner_id, off_start, off_end in TimeOff.objects.filter(
            practitioner_id__in=ids, starts_at__lt=end, ends_at__gt=start
        ).values_list("practitioner_id", "starts_at", "ends_at"):
            if (interval := _interval(off_start, off_end)) is not None:
                loaded[practitioner_id].append(interval)
        time_off = loaded
    booked: dict[int, list[slots.Interval]] = defaultdict(list)
    for appointment in appointments:
        if appointment.blocked_until > appointment.starts_at:
            booked[appointment.practitioner_id].append(
                _taken(appointment.starts_at, appointment.blocked_until)
            )
    return [
        slots.PractitionerDiary(
            practitioner_id=practitioner.pk,
            name=practitioner.display_name,
            hours=hours.get(practitioner.pk, {}),
            time_off=tuple(time_off.get(practitioner.pk, ())),
            booked=tuple(booked.get(practitioner.pk, ())),
        )
        for practitioner in practitioners
    ]


class BookedTime(NamedTuple):
    """An active appointment as availability sees it: who, where and when it is taken."""

    id: int
    practitioner_id: int
    room_id: int
    patient_id: int
    starts_at: datetime
    ends_at: datetime
    blocked_until: datetime


class EpochSeconds(Func):
    """A moment as whole seconds since 1970 (UTC), rounded down (``up=False``, for starts)
    or up (``up=True``, for ends), so an interval read this way still covers the stored
    one, and overlaps with whole-second moments (every start the grid or a form makes) come
    out exactly as with the stored values.

    Reading thousands of timestamps as text and parsing them was most of the slot search's
    time (psycopg's text loader for ``timestamptz`` runs in Python); integers load in C."""

    output_field = BigIntegerField()

    def __init__(self, expression: Any, *, up: bool = False) -> None:
        super().__init__(expression)
        self.up = up

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        rounding = "CEIL" if self.up else "FLOOR"
        return self.as_sql(
            compiler,
            connection,
            template=f"CAST({rounding}(EXTRACT(EPOCH FROM %(expressions)s)) AS bigint)",
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django stores "YYYY-MM-DD HH:MM:SS" and adds ".ffffff" only for a fraction. The
        # "%" is doubled twice: once for this template, once for the SQLite cursor wrapper.
        template = "CAST(strftime('%%%%s', %(expressions)s) AS integer)"
        if self.up:
            template += " + (length(%(expressions)s) > 19)"
        return self.as_sql(compiler, connection, template=template)


def _active_appointments_touching(
    *,
    start: datetime,
    end: datetime,
    practitioner_ids: Sequence[int],
    room_ids: Sequence[int],
    patient_id: int | None,
    exclude_appointment_id: int | None,
) -> tuple[list[BookedTime], dict[int, list[slots.Interval]]]:
    """Active appointments in a time range for any of the practitioners, rooms or patient,
    and the practitioners' time off there: one query (a UNION of the two tables)."""
    who = Q(practitioner_id__in=practitioner_ids) | Q(room_id__in=room_ids)
    if patient_id is not None:
        who |= Q(patient_id=patient_id)
    queryset = Appointment.objects.filter(
        who,
        status__in=ACTIVE_STATUSES,
        starts_at__lt=end,
        starts_at__gt=start - LONGEST_APPOINTMENT,
        blocked_until__gt=start,
    )
    if exclude_appointment_id is not None:
        queryset = queryset.exclude(pk=exclude_appointment_id)
    # Plain tuples, not model instances, and moments as epoch seconds: two weeks of a busy
    # clinic is ~2,500 rows. Appointments share their starts and ends (a 15-minute grid),
    # so each distinct second becomes one datetime.
    booked = queryset.order_by().values_list(
        Value("booked", output_field=CharField()),
        "id",
        "practitioner_id",
        "room_id",
        "patient_id",
        EpochSeconds("starts_at"),
        EpochSeconds("ends_at", up=True),
        EpochSeconds("blocked_until", up=True),
    )
    away = (
        TimeOff.objects.filter(
            practitioner_id__in=practitioner_ids, starts_at__lt=end, ends_at__gt=start
        )
        .order_by()
        .values_list(
            Value("away", output_field=CharField()),
            "id",
            "practitioner_id",
            Value(None, output_field=IntegerField()),
            Value(None, output_field=IntegerField()),
            EpochSeconds("starts_at"),
            EpochSeconds("ends_at", up=True),
            EpochSeconds("ends_at", up=True),
        )
    )
    # The ORM writes the query; a plain cursor reads it. Django's per-value converters
    # (an int() for each epoch column) cost more than the query on a busy fortnight.
    sql, params = booked.union(away, all=True).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    moment = {
        seconds: datetime.fromtimestamp(seconds, UTC)
        for seconds in {seconds for row in rows for seconds in row[5:]}
    }
    appointments = [
        BookedTime(pk, practitioner, room, patient, moment[starts], moment[ends], moment[blocked])
        for kind, pk, practitioner, room, patient, starts, ends, blocked in rows
        if kind == "booked"
    ]
    time_off: dict[int, list[slots.Interval]] = defaultdict(list)
    for kind, _pk, practitioner, _room, _patient, starts, ends, _blocked in rows:
        if kind == "away" and ends > starts:
            time_off[practitioner].append(slots.Interval(moment[starts], moment[ends]))
    return appointments, time_off


def capable_rooms(treatment_type: TreatmentType) -> list[Room]:
    return list(treatment_type.rooms.filter(is_active=True).order_by("name", "id"))


@dataclass(frozen=True)
class Availability:
    """Everything the pure slot rules need for one treatment over a date range."""

    calendar: slots.ClinicCalendar
    request: slots.SlotRequest
    diaries: list[slots.PractitionerDiary]
    rooms: list[slots.RoomDiary]
    practitioners: list[Practitioner]
    room_objects: list[Room]


def availability(
    *,
    treatment_type: TreatmentType,
    first_day: date,
    last_day: date,
    now: datetime,
    practitioners: Sequence[Practitioner] | None = None,
    patient_id: int | None = None,
    duration_minutes: int | None = None,
    exclude_appointment_id: int | None = None,
    rooms: Sequence[Room] | None = None,
) -> Availability:
    """Load the range in a fixed number of queries (at most 6 with practitioners to load)."""
    tz = clock.clinic_tz()
    policy = booking_settings()
    if practitioners is None:
        practitioners = list(Practitioner.objects.filter(is_active=True))
    room_objects = list(rooms) if rooms is not None else capable_rooms(treatment_type)
    calendar = clinic_calendar(first_day, last_day)
    start, end = _day_bounds(first_day, last_day, tz)
    appointments, time_off = _active_appointments_touching(
        start=start,
        end=end,
        practitioner_ids=[practitioner.pk for practitioner in practitioners],
        room_ids=[room.pk for room in room_objects],
        patient_id=patient_id,
        exclude_appointment_id=exclude_appointment_id,
    )
    practitioner_ids = {practitioner.pk for practitioner in practitioners}
    diaries = practitioner_diaries(
        practitioners,
        first_day,
        last_day,
        appointments=[item for item in appointments if item.practitioner_id in practitioner_ids],
        time_off=time_off,
    )
    room_booked: dict[int, list[slots.Interval]] = defaultdict(list)
    patient_booked: list[slots.Interval] = []
    for item in appointments:
        room_booked[item.room_id].append(_taken(item.starts_at, item.blocked_until))
        if patient_id is not None and item.patient_id == patient_id:
            patient_booked.append(slots.Interval(item.starts_at, item.ends_at))
    request = slots.SlotRequest(
        duration=timedelta(minutes=duration_minutes or treatment_type.default_duration_minutes),
        buffer=timedelta(minutes=treatment_type.buffer_minutes),
        earliest_start=now + timedelta(minutes=policy.minimum_notice_minutes),
        latest_start=now + timedelta(days=policy.horizon_days),
        patient_booked=tuple(patient_booked),
    )
    return Availability(
        calendar=calendar,
        request=request,
        diaries=diaries,
        rooms=[
            slots.RoomDiary(room.pk, room.name, tuple(room_booked.get(room.pk, ())))
            for room in room_objects
        ],
        practitioners=list(practitioners),
        room_objects=room_objects,
    )


# ---------------------------------------------------------------------------------------------
# Slot search
# ---------------------------------------------------------------------------------------------

MAX_SEARCH_DAYS = 62


@dataclass
class SlotOption:
    starts_at: datetime
    ends_at: datetime
    practitioner: Practitioner
    room: Room
    local_start: datetime


@dataclass
class SlotDay:
    day: date
    options: list[SlotOption] = field(default_factory=list)
    calendar_url: str = ""

    @property
    def by_practitioner(self) -> list[tuple[Practitioner, list[SlotOption]]]:
        """Options grouped by practitioner (in the order they first appear), times in order."""
        grouped: dict[int, tuple[Practitioner, list[SlotOption]]] = {}
        for option in self.options:
            grouped.setdefault(option.practitioner.pk, (option.practitioner, []))[1].append(option)
        return sorted(grouped.values(), key=lambda item: item[0].display_name)


@dataclass
class SlotSearchResult:
    first_day: date
    last_day: date
    days: list[SlotDay]
    count: int


def free_slots(
    *,
    treatment_type: TreatmentType,
    first_day: date,
    last_day: date,
    now: datetime,
    practitioner: Practitioner | None = None,
    active_practitioners: Sequence[Practitioner] | None = None,
    patient_id: int | None = None,
    duration_minutes: int | None = None,
    exclude_appointment_id: int | None = None,
) -> SlotSearchResult:
    """Free starts for a treatment on the 15-minute grid, by day (6 queries at most; 5 when
    the caller passes the ``active_practitioners`` it loaded already)."""
    if (last_day - first_day).days >= MAX_SEARCH_DAYS:
        last_day = first_day + timedelta(days=MAX_SEARCH_DAYS - 1)
    loaded = availability(
        treatment_type=treatment_type,
        first_day=first_day,
        last_day=last_day,
        now=now,
        practitioners=[practitioner] if practitioner is not None else active_practitioners,
        patient_id=patient_id,
        duration_minutes=duration_minutes,
        exclude_appointment_id=exclude_appointment_id,
    )
    found = slots.find_free_slots(
        first_day=first_day,
        last_day=last_day,
        calendar=loaded.calendar,
        request=loaded.request,
        diaries=loaded.diaries,
        rooms=loaded.rooms,
    )
    tz = loaded.calendar.tz
    by_practitioner = {practitioner.pk: practitioner for practitioner in loaded.practitioners}
    by_room = {room.pk: room for room in loaded.room_objects}
    days: dict[date, SlotDay] = {}
    for slot in found:
        local = slot.starts_at.astimezone(tz)
        days.setdefault(local.date(), SlotDay(local.date())).options.append(
            SlotOption(
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                practitioner=by_practitioner[slot.practitioner_id],
                room=by_room[slot.room_ids[0]],
                local_start=local,
            )
        )
    return SlotSearchResult(
        first_day=first_day, last_day=last_day, days=list(days.values()), count=len(found)
    )


# ---------------------------------------------------------------------------------------------
# Suitability and series state
# ---------------------------------------------------------------------------------------------


def latest_suitability(patient: Patient) -> tuple[str, str]:
    """The patient's latest screening outcome and its one-line summary (one query)."""
    latest = latest_screening(patient)
    return latest.outcome, latest.summary if latest.screening else ""


def _with_suitability(appointments: Sequence[Appointment]) -> None:
    """Copy the patient's badge (kept on the patient row by the assessment services) onto
    each appointment for the cards: no query, the patient is already loaded."""
    for item in appointments:
        # Types: set on the row for the template.
        item.patient_suitability = item.patient.suitability  # type: ignore[attr-defined]
        # Types: set on the row for the template.
        item.patient_suitability_summary = item.patient.suitability_summary  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SeriesState:
    """Where a series stands for booking: session days by number and the next window."""

    series: TreatmentSeries
    sessions: tuple[booking_rules.SessionDate, ...]
    next_number: int
    window: treatment_rules.SessionWindow
    policy: treatment_rules.SpacingPolicy
    last_on: date | None
    preferred_practitioner_id: int | None

    @property
    def remaining(self) -> int:
        return max(self.series.planned_sessions - self.next_number + 1, 0)


def series_state(
    series: TreatmentSeries, *, exclude_appointment_id: int | None = None
) -> SeriesState:
    """Logged sessions and held appointments of a series (two queries)."""
    tz = clock.clinic_tz()
    by_number: dict[int, date] = {}
    for number, performed_at in TreatmentSession.objects.filter(series=series).values_list(
        "number", "performed_at"
    ):
        by_number[number] = clock.local_day(performed_at, tz)
    held = Appointment.objects.filter(
        series=series, status__in=SESSION_HOLDING_STATUSES, series_session_number__isnull=False
    )
    if exclude_appointment_id is not None:
        held = held.exclude(pk=exclude_appointment_id)
    preferred = None
    for number, starts_at, practitioner_id in held.order_by("starts_at").values_list(
        "series_session_number", "starts_at", "practitioner_id"
    ):
        # Types: series appointments have a session number.
        by_number.setdefault(number, clock.local_day(starts_at, tz))  # type: ignore[arg-type]
        preferred = practitioner_id
    sessions = tuple(
        booking_rules.SessionDate(number, on) for number, on in sorted(by_number.items())
    )
    next_number = booking_rules.next_session_number(
        taken=by_number, completed_sessions=series.completed_sessions
    )
    last_on = max((session.on for session in sessions), default=series.last_session_on)
    if series.last_session_on and last_on and series.last_session_on > last_on:
        last_on = series.last_session_on
    policy = series.treatment_type.spacing_policy
    window = treatment_rules.series_window(
        last_session_on=last_on, start_on=series.start_on, policy=policy
    )
    return SeriesState(
        series=series,
        sessions=sessions,
        next_number=next_number,
        window=window,
        policy=policy,
        last_on=last_on,
        preferred_practitioner_id=preferred or series.planned_by_id,
    )


def treatment_session_days(
    *, patient_id: int, treatment_type_id: int, exclude_appointment_id: int | None = None
) -> list[date]:
    """Clinic-local days of the patient's sessions of one treatment, in any series or none:
    held appointments (not cancelled or missed) and logged sessions (two queries)."""
    tz = clock.clinic_tz()
    held = Appointment.objects.filter(
        patient_id=patient_id,
        treatment_type_id=treatment_type_id,
        status__in=SESSION_HOLDING_STATUSES,
    )
    if exclude_appointment_id is not None:
        held = held.exclude(pk=exclude_appointment_id)
    logged = TreatmentSession.objects.filter(
        series__patient_id=patient_id, series__treatment_type_id=treatment_type_id
    )
    moments = [
        *held.values_list("starts_at", flat=True),
        *logged.values_list("performed_at", flat=True),
    ]
    return sorted({clock.local_day(moment, tz) for moment in moments})


def open_series_of(*, patient: Patient, treatment_type: TreatmentType) -> TreatmentSeries | None:
    """The patient's open series of a treatment (the oldest, if several), to offer attaching a
    one-off booking to it (one query)."""
    return (
        TreatmentSeries.objects.filter(
            patient=patient, treatment_type=treatment_type, status__in=OPEN_SERIES_STATUSES
        )
        .select_related("treatment_type")
        .order_by("start_on", "pk")
        .first()
    )


# ---------------------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------------------


# What a calendar card shows, read as plain rows: a busy day is ~170 cards, and building
# appointment, patient, treatment type and series models for them (~900 objects) was half the
# page's time on the benchmark clinic.
_CARD_FIELDS = (
    "id",
    "practitioner_id",
    "status",
    "starts_at",
    "ends_at",
    "blocked_until",
    "series_id",
    "series_session_number",
    "series__planned_sessions",
    "patient__given_name",
    "patient__family_name",
    "patient__suitability",
    "patient__suitability_summary",
    "treatment_type__name",
    "overdue",
    "suitability_override_reason",
    "spacing_override_reason",
    "cancellation_reason",
)
_STATUS_LABELS = dict(AppointmentStatus.choices)


def _calendar_cards(
    start: datetime, end: datetime, *, practitioner_id: int | None = None
) -> list[grid.Card]:
    """Appointments (cancelled ones too) overlapping a range, as cards, in time order."""
    queryset = Appointment.objects.filter(
        starts_at__lt=end, starts_at__gt=start - LONGEST_APPOINTMENT, ends_at__gt=start
    )
    if practitioner_id is not None:
        queryset = queryset.filter(practitioner_id=practitioner_id)
    tz = clock.clinic_tz()
    cards = []
    for (
        pk,
        practitioner,
        status,
        starts_at,
        ends_at,
        blocked_until,
        series_id,
        session_number,
        planned_sessions,
        given_name,
        family_name,
        suitability,
        suitability_summary,
        treatment_name,
        overdue,
        suitability_override,
        spacing_override,
        cancellation_reason,
    ) in queryset.order_by("starts_at", "id").values_list(*_CARD_FIELDS):
        cards.append(
            grid.Card(
                pk=pk,
                practitioner_id=practitioner,
                status=status,
                status_label=_STATUS_LABELS.get(status, status),
                starts_at=starts_at,
                ends_at=ends_at,
                blocked_until=blocked_until,
                local_start=starts_at.astimezone(tz),
                local_end=ends_at.astimezone(tz),
                patient_name=f"{given_name} {family_name}",
                treatment_name=treatment_name,
                session_label=(
                    f"Session {session_number} of {planned_sessions}"
                    if series_id and session_number
                    else ""
                ),
                patient_suitability=suitability,
                patient_suitability_summary=suitability_summary,
                overdue=overdue,
                has_override=bool(suitability_override or spacing_override),
                cancellation_reason=cancellation_reason,
            )
        )
    return cards


def _open_intervals(
    day: date,
    calendar: slots.ClinicCalendar,
    diary: slots.PractitionerDiary,
) -> list[slots.Interval]:
    """When a practitioner can take bookings on a day: working hours inside opening hours,
    minus the break and time off."""
    tz = calendar.tz
    if day in calendar.closures:
        return []
    hours = diary.hours.get(day.weekday())
    if hours is None:
        return []
    pieces: list[tuple[datetime, datetime]] = []
    for opens, closes in calendar.opening.get(day.weekday(), ()):
        start = max(opens, hours.starts_at)
        end = min(closes, hours.ends_at)
        if end <= start:
            continue
        first = clock.local_datetime(day, start, tz)
        last = clock.local_datetime(day, end, tz)
        if first is None or last is None:
            continue
        pieces.append((first, last))
    cuts: list[tuple[datetime, datetime]] = []
    if hours.break_starts_at is not None and hours.break_ends_at is not None:
        first = clock.local_datetime(day, hours.break_starts_at, tz)
        last = clock.local_datetime(day, hours.break_ends_at, tz)
        if first is not None and last is not None:
            cuts.append((first, last))
    cuts.extend((absence.start, absence.end) for absence in diary.time_off)
    for cut_start, cut_end in cuts:
        next_pieces = []
        for piece_start, piece_end in pieces:
            if cut_end <= piece_start or piece_end <= cut_start:
                next_pieces.append((piece_start, piece_end))
                continue
            if piece_start < cut_start:
                next_pieces.append((piece_start, cut_start))
            if cut_end < piece_end:
                next_pieces.append((cut_end, piece_end))
        pieces = next_pieces
    return [slots.Interval(start, end) for start, end in pieces if end > start]


def _display_hours(
    days: Sequence[date], calendar: slots.ClinicCalendar, entries: Iterable[datetime]
) -> tuple[time, time]:
    """From the earliest opening to the latest closing on the days shown, widened to fit
    every appointment; 08:00-20:00 when the clinic is closed all along."""
    opens = [span[0] for day in days for span in calendar.opening.get(day.weekday(), ())]
    closes = [span[1] for day in days for span in calendar.opening.get(day.weekday(), ())]
    first = min(opens, default=DAY_VIEW_DEFAULT_HOURS[0])
    last = max(closes, default=DAY_VIEW_DEFAULT_HOURS[1])
    tz = calendar.tz
    for moment in entries:
        local = moment.astimezone(tz).time()
        first = min(first, time(local.hour))
        last = max(last, local if local.minute == 0 else time(min(local.hour + 1, 23), 59))
    return first, last


def _grid_entry(card: grid.Card) -> grid.GridEntry:
    return grid.GridEntry(
        start=card.starts_at,
        end=card.ends_at,
        blocked_until=card.blocked_until,
        item=card,
        active=card.status in ACTIVE_STATUSES,
    )


@dataclass
class CalendarDay:
    day: date
    columns: list[grid.Column]
    rows: list[grid.Row]
    closure: str | None
    appointment_count: int
    cancelled: list[grid.Card]


def calendar_day(*, day: date, now: datetime) -> CalendarDay:
    """The day view: one column per active practitioner (6 queries, however many
    appointments)."""
    tz = clock.clinic_tz()
    policy = booking_settings()
    calendar = clinic_calendar(day, day)
    practitioners = list(Practitioner.objects.filter(is_active=True))
    start, end = clock.day_bounds(day, day, tz)
    appointments = _calendar_cards(start, end)
    diaries = practitioner_diaries(
        practitioners,
        day,
        day,
        appointments=[item for item in appointments if item.status in ACTIVE_STATUSES],
    )
    by_practitioner: dict[int, list[grid.GridEntry]] = defaultdict(list)
    for item in appointments:
        if item.status != AppointmentStatus.CANCELLED:
            by_practitioner[item.practitioner_id].append(_grid_entry(item))
    columns = []
    for practitioner, diary in zip(practitioners, diaries, strict=True):
        columns.append(
            grid.Column(
                key=practitioner.pk,
                label=practitioner.display_name,
                entries=by_practitioner.get(practitioner.pk, []),
                open=_open_intervals(day, calendar, diary),
                day=day,
                extra=practitioner,
            )
        )
    first, last = _display_hours([day], calendar, _entry_moments(appointments))
    rows = grid.layout_grid(
        rows=grid.row_starts(day, first, last, tz),
        columns=columns,
        bookable_from=now + timedelta(minutes=policy.minimum_notice_minutes),
        tz=tz,
    )
    return CalendarDay(
        day=day,
        columns=columns,
        rows=rows,
        closure=calendar.closure_reasons.get(day),
        appointment_count=sum(
            1 for item in appointments if item.status != AppointmentStatus.CANCELLED
        ),
        cancelled=[item for item in appointments if item.status == AppointmentStatus.CANCELLED],
    )


def _entry_moments(appointments: Iterable[grid.Card]) -> list[datetime]:
    moments: list[datetime] = []
    for item in appointments:
        if item.status != AppointmentStatus.CANCELLED:
            moments.extend((item.starts_at, item.ends_at))
    return moments


def _attach_session_counts(appointments: Sequence[Appointment]) -> None:
    """Nothing to load: ``series.planned_sessions`` and the patient come with
    ``select_related``. Labels series sessions ("Session 3 of 6") and copies the badge (the
    appointment page; the calendars build the same label in :func:`_calendar_cards`)."""
    _with_suitability(appointments)
    for item in appointments:
        # Types: set on the row for the template.
        item.session_label = (  # type: ignore[attr-defined]
            # Types: only series appointments get a session label.
            f"Session {item.series_session_number} of {item.series.planned_sessions}"  # type: ignore[union-attr]
            if item.series_id and item.series_session_number
            else ""
        )


@dataclass
class CalendarWeek:
    practitioner: Practitioner
    days: list[date]
    columns: list[grid.Column]
    rows: list[grid.Row]
    appointment_count: int


def calendar_week(*, practitioner: Practitioner, week_start: date, now: datetime) -> CalendarWeek:
    """One practitioner's week, a column per day (5 queries, however many appointments)."""
    tz = clock.clinic_tz()
    policy = booking_settings()
    days = [week_start + timedelta(days=offset) for offset in range(7)]
    calendar = clinic_calendar(days[0], days[-1])
    start, end = clock.day_bounds(days[0], days[-1], tz)
    appointments = [
        item
        for item in _calendar_cards(start, end, practitioner_id=practitioner.pk)
        if item.status != AppointmentStatus.CANCELLED
    ]
    (diary,) = practitioner_diaries(
        [practitioner],
        days[0],
        days[-1],
        appointments=[item for item in appointments if item.status in ACTIVE_STATUSES],
    )
    first, last = _display_hours(days, calendar, _entry_moments(appointments))
    # Each day keeps its own wall-clock rows (DST safe); the table shows them side by side.
    base_rows = grid.row_starts(days[0], first, last, tz)
    columns = []
    per_day_rows = {}
    for day in days:
        day_rows = grid.row_starts(day, first, last, tz)
        per_day_rows[day] = day_rows
        columns.append(
            grid.Column(
                key=day.isoformat(),
                label=long_date(day),
                entries=[
                    _grid_entry(item) for item in appointments if item.local_start.date() == day
                ],
                open=_open_intervals(day, calendar, diary),
                day=day,
                extra=practitioner,
            )
        )
    # Lay each day out on its own rows, then stitch the cells together by row position.
    bookable_from = now + timedelta(minutes=policy.minimum_notice_minutes)
    stitched: list[grid.Row] = []
    laid_out = [
        grid.layout_grid(
            rows=per_day_rows[day], columns=[column], bookable_from=bookable_from, tz=tz
        )
        for day, column in zip(days, columns, strict=True)
    ]
    for index, row_start in enumerate(base_rows):
        cells = []
        for day_layout in laid_out:
            cells.append(
                day_layout[index].cells[0]
                if index < len(day_layout)
                else grid.Cell("closed", column=None)
            )
        stitched.append(
            grid.Row(start=row_start, label=row_start.astimezone(tz).strftime("%H:%M"), cells=cells)
        )
    return CalendarWeek(
        practitioner=practitioner,
        days=days,
        columns=columns,
        rows=stitched,
        appointment_count=len(appointments),
    )


# ---------------------------------------------------------------------------------------------
# Due list
# ---------------------------------------------------------------------------------------------


@dataclass
class DueSeries:
    series: TreatmentSeries
    window: treatment_rules.SessionWindow
    status: str
    next_number: int
    last_on: date | None
    search_from: date
    search_to: date
    days_overdue: int = 0
    search_url: str = ""


@dataclass
class DueList:
    page: Page
    groups: list[tuple[str, str, list[DueSeries]]]
    counts: dict[str, int]
    lapsed: int = 0  # open series with no session or visit since ``lapsed_before``
    lapsed_before: date | None = None


# An open series whose window closed this long ago is "lapsed": counted, listed apart.
LAPSED_AFTER_DAYS = 90


def lapsed_before(today: date) -> date:
    """Series with no session, visit or planned start since this day are lapsed: even the
    widest spacing window after them closed over :data:`LAPSED_AFTER_DAYS` days ago."""
    widest = TreatmentType.objects.aggregate(widest=Max("max_interval_days"))["widest"] or 0
    return today - timedelta(days=LAPSED_AFTER_DAYS + widest)


def due_series(
    *,
    today: date,
    now: datetime,
    page_number: Any = 1,
    per_page: int = 25,
    lapsed: bool = False,
) -> DueList:
    """Open series with no future active appointment whose next window is open, closing or
    past, most urgent first (four queries, however many series and however long the history).

    Series with no session, visit or planned start since :func:`lapsed_before` (their window
    closed more than :data:`LAPSED_AFTER_DAYS` ago, whatever the treatment) are left out and
    counted in ``lapsed``: they pile up with the years, and listing them first buried the
    patients who can still be seen in time. ``lapsed=True`` lists those instead (three
    queries; that page reads every lapsed series, as it lists them).

    ``now`` must be on or after the cutoff's first moment (it is: callers pass the clinic's
    today and now), so a series booked ahead always has a visit since the cutoff and is
    never lapsed.

    How the list stays the same cost as history grows (the benchmark clinic holds four years:
    about 4,000 open series, half of them lapsed): the recent series are reached through
    indexes from the facts that make them recent, never by reading every open series.

    1. The lapsed ones: open series with no session and no planned start since the cutoff
       are a range of ``series_open_start_idx``, read without the table; the ones among
       them with a visit since the cutoff (a patient back after months: a handful) come
       out by id, the others as one count. Visits since the cutoff are a range of the
       held-appointments index (``appointment_series_visit_idx``), bounded by time.
    2. The list: open series with a session since the cutoff (``series_due_idx``), a
       planned start since the cutoff (``series_open_start_idx``) or one of those ids
       (primary key), one bitmap over the three; nothing booked ahead; the last visit and
       the highest session number booked per series.

    Measured on PostgreSQL against the single pass it replaced, which read every open
    series to flag the lapsed ones: 19-20 -> 2 + 10 ms on the full benchmark clinic, the
    same 12 ms on the small one (a tenth of the history). A denormalised "last activity"
    date on the series would save the visit range in step 1 (about 2 ms) but would have
    to be kept right by every write that books, moves, cancels or completes an
    appointment, logs or amends a session or plans a series; reading the records
    themselves cannot disagree with them.
    """
    tz = clock.clinic_tz()
    future = Appointment.objects.filter(
        series=OuterRef("pk"), status__in=ACTIVE_STATUSES, starts_at__gte=now
    )
    held = Appointment.objects.filter(series=OuterRef("pk"), status__in=SESSION_HOLDING_STATUSES)
    cutoff = lapsed_before(today)
    # A session, a visit or a planned start on or after the cutoff: only these windows can
    # still be open or closed recently.
    cutoff_moment = clock.start_of_day(cutoff, tz)
    visited = Appointment.objects.filter(
        status__in=SESSION_HOLDING_STATUSES,
        starts_at__gte=cutoff_moment,
        series__isnull=False,
    ).values("series_id")
    seen = Q(last_session_on__gte=cutoff) | Q(start_on__gte=cutoff)
    open_series = TreatmentSeries.objects.filter(status__in=OPEN_SERIES_STATUSES)
    unseen = open_series.exclude(seen)  # no session or planned start since the cutoff
    if lapsed:
        wanted = unseen.exclude(pk__in=visited)
        lapsed_count = 0  # counted below: every row is lapsed
    else:
        # One row per unseen series visited since the cutoff, one row counting the rest.
        revisited: list[int] = []
        lapsed_count = 0
        for series_id, count in (
            unseen.annotate(
                revisited=Case(When(pk__in=visited, then="pk"), default=None),
            )
            .order_by()
            .values("revisited")
            .annotate(count=Count("pk"))
            .values_list("revisited", "count")
        ):
            if series_id is None:
                lapsed_count = count
            else:
                revisited.append(series_id)
        wanted = open_series.filter(seen | Q(pk__in=revisited))
    rows = (
        wanted.filter(~Exists(future))
        .order_by()  # sorted by urgency below
        .annotate(
            # Per-series subqueries on the (series, status) index rather than MAX() over a
            # join: the join made PostgreSQL read every series appointment ever booked.
            # The clinic-local day is computed by the database: dates load in C,
            # timestamps through a Python parser.
            last_visit_on=Subquery(
                held.order_by("-starts_at")
                .annotate(day=TruncDate("starts_at", tzinfo=tz))
                .values("day")[:1]
            ),
            highest_booked=Subquery(
                held.order_by("-series_session_number").values("series_session_number")[:1]
            ),
        )
        .values_list(
            "pk",
            "last_session_on",
            "start_on",
            "completed_sessions",
            "planned_sessions",
            "last_visit_on",
            "highest_booked",
            "treatment_type__min_interval_days",
            "treatment_type__max_interval_days",
            "treatment_type__maintenance_interval_days",
        )
    )
    candidates = list(rows)
    if lapsed:
        lapsed_count = len(candidates)
    # Windows and urgency for every candidate; the rest (search range, the series row) only
    # for the page shown.
    due: list[tuple[tuple[int, date], int, Any]] = []
    policies: dict[tuple[int, int, int | None], treatment_rules.SpacingPolicy] = {}
    for (
        pk,
        last_session_on,
        start_on,
        completed,
        planned,
        last_visit_on,
        highest_booked,
        min_days,
        max_days,
        maintenance_days,
    ) in candidates:
        next_number = booking_rules.next_session_number(
            taken=[highest_booked] if highest_booked else [], completed_sessions=completed
        )
        if next_number > planned:
            continue
        last_on = last_session_on
        if last_visit_on is not None:
            last_on = max(last_on, last_visit_on) if last_on else last_visit_on
        key = (min_days, max_days, maintenance_days)
        policy = policies.get(key)
        if policy is None:
            policy = policies[key] = treatment_rules.SpacingPolicy(
                min_days=min_days, max_days=max_days, maintenance_days=maintenance_days
            )
        window = treatment_rules.series_window(
            last_session_on=last_on, start_on=start_on, policy=policy
        )
        status = window.status_on(today)
        if status in (treatment_rules.WindowStatus.PLANNED, treatment_rules.WindowStatus.TOO_EARLY):
            continue
        due.append(
            (
                booking_rules.due_sort_key(window=window, today=today),
                pk,
                (window, status, next_number, last_on),
            )
        )
    due.sort(key=lambda item: (item[0], item[1]))
    counts = {status: 0 for status, _ in booking_rules.DUE_GROUPS}
    for _, _, (_, status, _, _) in due:
        counts[status] = counts.get(status, 0) + 1
    page = Paginator([(pk, facts) for _, pk, facts in due], per_page).get_page(page_number)
    entries = []
    for pk, (window, status, next_number, last_on) in page.object_list:
        search_from, search_to = booking_rules.search_range_for_window(window=window, today=today)
        entries.append(
            (
                pk,
                DueSeries(
                    series=None,  # type: ignore[arg-type]  # filled below
                    window=window,
                    status=status,
                    next_number=next_number,
                    last_on=last_on,
                    search_from=search_from,
                    search_to=search_to,
                    days_overdue=max((today - window.latest).days, 0),
                ),
            )
        )
    page.object_list = entries
    ids = [pk for pk, _ in entries]
    series_by_id = TreatmentSeries.objects.select_related(
        "patient", "treatment_type", "planned_by"
    ).in_bulk(ids)
    groups: dict[str, list[DueSeries]] = defaultdict(list)
    for pk, entry in page.object_list:
        entry.series = series_by_id[pk]
        groups[entry.status].append(entry)
    return DueList(
        page=page,
        groups=[
            (status, label, groups[status])
            for status, label in booking_rules.DUE_GROUPS
            if groups.get(status)
        ],
        counts=counts,
        lapsed=lapsed_count,
        lapsed_before=cutoff,
    )


# ---------------------------------------------------------------------------------------------
# Appointments
# ---------------------------------------------------------------------------------------------


def appointment_detail(appointment_id: int) -> Appointment:
    """One appointment with everything its page shows (two queries)."""
    appointment = (
        Appointment.objects.select_related(
            "patient",
            "practitioner",
            "room",
            "treatment_type",
            "series",
            "booked_by",
            "override_by",
            "treatment_session",
        )
        .prefetch_related(
            Prefetch(
                "changes",
                queryset=AppointmentChange.objects.select_related(
                    "changed_by", "from_practitioner", "to_practitioner", "from_room", "to_room"
                ),
            )
        )
        .get(pk=appointment_id)
    )
    _attach_session_counts([appointment])
    return appointment


def appointments_in_range(
    *, start: datetime, end: datetime, practitioner_id: int | None = None
) -> QuerySet[Appointment]:
    """Appointments starting in ``[start, end)`` for the API list (one query)."""
    queryset = Appointment.objects.filter(starts_at__gte=start, starts_at__lt=end).select_related(
        "patient", "practitioner", "room", "treatment_type", "series"
    )
    if practitioner_id is not None:
        queryset = queryset.filter(practitioner_id=practitioner_id)
    return queryset.order_by("starts_at", "id")


def patient_search(query: str, *, limit: int = 20) -> list[Patient]:
    """Active patients whose name, email or phone contains every word of ``query``."""
    words = normalise_for_search(query).split()
    if not words:
        return []
    queryset = Patient.objects.filter(is_active=True)
    for word in words:
        queryset = queryset.filter(search_text__contains=word)
    return list(queryset.order_by("family_name", "given_name", "id")[:limit])


def patient_upcoming_appointments(patient: Patient, *, now: datetime) -> list[Appointment]:
    return list(
        Appointment.objects.filter(patient=patient, status__in=ACTIVE_STATUSES, starts_at__gte=now)
        .select_related("practitioner", "treatment_type")
        .order_by("starts_at")[:5]
    )


def open_series_for_patient(patient: Patient) -> list[TreatmentSeries]:
    return list(
        TreatmentSeries.objects.filter(patient=patient, status__in=OPEN_SERIES_STATUSES)
        .select_related("treatment_type")
        .order_by("-start_on")
    )


# ---------------------------------------------------------------------------------------------
# Booking the rest of a series
# ---------------------------------------------------------------------------------------------

DEFAULT_PREFERRED_MINUTE = 10 * 60


@dataclass
class SessionProposal:
    number: int
    window: treatment_rules.SessionWindow
    option: SlotOption | None

    @property
    def overdue(self) -> bool:
        return self.option is not None and self.option.local_start.date() > self.window.latest


@dataclass
class SeriesPlan:
    state: SeriesState
    proposals: list[SessionProposal]


def series_proposals(series: TreatmentSeries, *, now: datetime) -> SeriesPlan:
    """A free slot for every remaining session of a series, each inside its window.

    Each window follows from the slot proposed before it. Within a window the day closest to
    the ideal day wins, then the practitioner the patient saw last, then the usual time of
    day. Loads availability once for the whole span (about 10 queries however many sessions).
    """
    tz = clock.clinic_tz()
    today = clock.local_day(now, tz)
    state = series_state(series)
    policy = state.policy
    numbers = list(range(state.next_number, series.planned_sessions + 1))
    if not numbers:
        return SeriesPlan(state=state, proposals=[])
    first_day = max(state.window.earliest, today)
    last_day = max(state.window.latest, first_day) + timedelta(
        days=policy.max_days * (len(numbers) - 1) + policy.min_days
    )
    loaded = availability(
        treatment_type=series.treatment_type,
        first_day=first_day,
        last_day=last_day,
        now=now,
        patient_id=series.patient_id,
    )
    preferred_minute = DEFAULT_PREFERRED_MINUTE
    last_visit = (
        Appointment.objects.filter(series=series, status__in=SESSION_HOLDING_STATUSES)
        .order_by("-starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )
    if last_visit is not None:
        local_visit = last_visit.astimezone(tz)
        preferred_minute = local_visit.hour * 60 + local_visit.minute
    by_practitioner = {practitioner.pk: practitioner for practitioner in loaded.practitioners}
    by_room = {room.pk: room for room in loaded.room_objects}
    proposals = []
    previous_on = state.last_on
    for number in numbers:
        window = treatment_rules.series_window(
            last_session_on=previous_on, start_on=series.start_on, policy=policy
        )
        search_from, search_to = booking_rules.search_range_for_window(window=window, today=today)
        found = slots.find_free_slots(
            first_day=search_from,
            last_day=search_to,
            calendar=loaded.calendar,
            request=loaded.request,
            diaries=loaded.diaries,
            rooms=loaded.rooms,
        )
        candidates = []
        for index, slot in enumerate(found):
            local_start = slot.starts_at.astimezone(tz)
            candidates.append(
                booking_rules.Candidate(
                    day=local_start.date(),
                    minute_of_day=local_start.hour * 60 + local_start.minute,
                    practitioner_id=slot.practitioner_id,
                    index=index,
                )
            )
        best = booking_rules.best_candidate(
            candidates,
            target=max(window.ideal, search_from),
            preferred_practitioner_id=state.preferred_practitioner_id,
            preferred_minute=preferred_minute,
        )
        option = None
        if best is not None:
            slot = found[best.index]
            option = SlotOption(
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                practitioner=by_practitioner[slot.practitioner_id],
                room=by_room[slot.room_ids[0]],
                local_start=slot.starts_at.astimezone(tz),
            )
            previous_on = best.day
        else:
            previous_on = max(window.ideal, search_from)
        proposals.append(SessionProposal(number=number, window=window, option=option))
    return SeriesPlan(state=state, proposals=proposals)


# ---------------------------------------------------------------------------------------------
# The patient page (clinic.timeline providers)
# ---------------------------------------------------------------------------------------------

STATUS_TONES: dict[str, str] = {
    AppointmentStatus.BOOKED: "primary",
    AppointmentStatus.CONFIRMED: "primary",
    AppointmentStatus.CHECKED_IN: "info",
    AppointmentStatus.COMPLETED: "success",
    AppointmentStatus.CANCELLED: "secondary",
    AppointmentStatus.NO_SHOW: "danger",
}


def appointment_timeline_entries(patient: Patient) -> list[Any]:
    """Every appointment of the patient, as timeline entries (one query).

    Titles carry no clinical detail (treatment, practitioner, status), so receptionists see
    them whole.
    """
    appointments = (
        Appointment.objects.filter(patient=patient)
        .select_related("practitioner", "treatment_type", "series")
        .order_by("-starts_at")
    )
    entries = []
    for appointment in appointments:
        session = (
            # Types: only series appointments get a session number.
            f", session {appointment.series_session_number} of "  # type: ignore[union-attr]
            f"{appointment.series.planned_sessions}"
            if appointment.series_id and appointment.series_session_number
            else ""
        )
        detail = f"With {appointment.practitioner}."
        if appointment.status == AppointmentStatus.CANCELLED and appointment.cancellation_reason:
            detail = f"Cancelled: {appointment.cancellation_reason}"
        entries.append(
            timeline.TimelineEntry(
                at=appointment.starts_at,
                kind="appointment",
                title=(
                    f"{appointment.treatment_type}{session}: "
                    f"{appointment.get_status_display().lower()}"
                    f"{' (overdue)' if appointment.overdue else ''}"
                ),
                detail=detail,
                url=reverse("bookings:appointment_detail", args=[appointment.pk]),
                tone=STATUS_TONES.get(appointment.status, "secondary"),
            )
        )
    return entries


def appointment_actions(patient: Patient, user: Any) -> list[Any]:
    """ "Book an appointment" on the patient page, and "Book next session" per open series."""
    from django.urls import reverse

    from clinic import timeline

    if not patient.is_active:
        return []
    actions = [
        timeline.PatientAction(
            label="Book an appointment",
            url=f"{reverse('bookings:appointment_new')}?patient={patient.pk}",
            primary=True,
            order=20,
        )
    ]
    return actions
