"""A synthetic clinic with years of history, written with PostgreSQL COPY in a few minutes.

Shape (``full``; ``small`` is a tenth of the history, same clinic and same coming weeks):

- 20 practitioners (each with a staff user), 10 rooms, the catalogue's treatment types, a
  receptionist and a manager; the clinic is open every day, practitioners work every day
  (long weekday shifts, shorter weekends) so four years hold half a million appointments.
- Coming weeks (identical in both sizes, so "cost must not grow with history" compares like
  with like): practitioners' days are packed until the rooms are full, thinning out towards
  the booking horizon; statuses booked or confirmed, earlier today completed.
- History: the same days going back until the appointment total is reached; completed,
  no-shows, and cancelled appointments whose slot was rebooked. The database forbids
  overlaps only for active appointments, and the issue's volume (about 340 a day) is more
  than ten rooms can physically hold, so past appointments share rooms; upcoming ones never
  do (the exclusion constraints check every row written here).
- Treatment series in every stage (planned, active with the next window not open yet / open /
  overdue, completed, maintenance, stopped), each with a signed skin assessment; every past
  session is a signed ``TreatmentSession`` linked to its completed appointment with an
  aftercare note; about two thirds of active series have their next session booked.
- 100,000 patients with accented names, e-mail addresses and phone numbers, search text
  built by the same function the app uses.

Everything is generated in memory from a seeded random source, then written table by table
with ``COPY ... FROM STDIN`` (psycopg 3); columns the generator does not set take the model
field's default, so a new field with a default does not break the benchmark.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone

from bookings.models import (
    Appointment,
    AppointmentNotice,
    AppointmentStatus,
    BookingSettings,
    NoticeTold,
    WorkingHours,
)
from clinic import clock
from clinic.models import (
    MessageKind,
    MessageStatus,
    OpeningHours,
    OutboundMessage,
    Patient,
    Practitioner,
    Room,
    patient_search_text,
)
from clinic.roles import GROUP_NAMES, Role
from treatments.choices import SeriesStatus, Suitability
from treatments.models import (
    AftercareNote,
    SkinAssessment,
    TreatmentSeries,
    TreatmentSession,
    TreatmentType,
)


@dataclass(frozen=True)
class BenchSize:
    name: str
    patients: int
    appointments: int
    sessions: int


SIZES = {
    "full": BenchSize("full", patients=100_000, appointments=500_000, sessions=150_000),
    "small": BenchSize("small", patients=10_000, appointments=50_000, sessions=15_000),
}
PRACTITIONER_COUNT = 20
ROOM_COUNT = 10
FUTURE_DAYS = 120
BENCH_DOMAIN = "bench.clinic.example"
RECEPTIONIST_USERNAME = "bench-reception"
MANAGER_USERNAME = "bench-manager"

# Local working day per weekday (Monday = 0): the clinic is open every day.
DAY_HOURS = {0: (8, 20), 1: (8, 20), 2: (8, 20), 3: (8, 20), 4: (8, 20), 5: (8, 18), 6: (10, 16)}
# Share of treatment types in the diary; microneedling runs only in the last four rooms.
TYPE_WEIGHTS = (0.5, 0.4, 0.1)
MICRONEEDLING_ROOMS = range(6, 10)

# Status codes stored in the in-memory arrays.
COMPLETED, NO_SHOW, CANCELLED, BOOKED, CONFIRMED = range(5)
STATUS_VALUES = {
    COMPLETED: AppointmentStatus.COMPLETED,
    NO_SHOW: AppointmentStatus.NO_SHOW,
    CANCELLED: AppointmentStatus.CANCELLED,
    BOOKED: AppointmentStatus.BOOKED,
    CONFIRMED: AppointmentStatus.CONFIRMED,
}

GIVEN_NAMES = [
    "Zoë",
    "José",
    "Siobhán",
    "Chloé",
    "Aoife",
    "Mateusz",
    "Hannah",
    "Liam",
    "Ana",
    "Noah",
    "Isla",
    "Yusuf",
    "Freya",
    "Oluwaseun",
    "Grace",
    "Mei",
    "Ravi",
    "Sofia",
    "Emily",
    "Kwame",
    "Élodie",
    "Niamh",
    "Tomás",
    "Amelia",
    "Fatima",
    "Lucas",
    "Olivia",
    "Björn",
    "Ama",
    "Charlotte",
    "Daniel",
    "Leila",
    "Róisín",
    "Marcus",
    "Ingrid",
    "Samuel",
    "Priya",
    "Jonas",
    "Amara",
    "Malik",
    "Elena",
    "Hugo",
    "Aisha",
    "Oscar",
    "Nadia",
    "Felix",
    "Imogen",
    "Rory",
    "Maya",
    "Arjun",
    "Lena",
    "Thiago",
    "Saoirse",
    "Eilidh",
    "Kofi",
    "Yara",
    "Matteo",
    "Ines",
    "Callum",
    "Zara",
    "Henrik",
    "Layla",
    "Declan",
    "Anouk",
    "Tariq",
    "Bethan",
    "Mihai",
    "Dalia",
    "Ewan",
]
FAMILY_NAMES = [
    "Adeyemi",
    "Martínez",
    "O'Connor",
    "Dubois",
    "Murphy",
    "Kowalski",
    "Schäfer",
    "Walsh",
    "García",
    "Patel",
    "Campbell",
    "Demir",
    "Johansson",
    "Bello",
    "Thompson",
    "Chen",
    "Sharma",
    "Rossi",
    "Clarke",
    "Mensah",
    "Laurent",
    "Kelly",
    "Briain",
    "Hughes",
    "Hussain",
    "Silva",
    "Wright",
    "Nilsson",
    "Owusu",
    "Evans",
    "Kim",
    "Haddad",
    "Byrne",
    "Greene",
    "Berg",
    "Okoro",
    "Novak",
    "Fischer",
    "Müller",
    "Nguyen",
    "Ferreira",
    "Costa",
    "Jansen",
    "Horvat",
    "Popescu",
    "Moreau",
    "Lefèvre",
    "Ó'Súilleabháin",
    "MacLeod",
    "Fraser",
    "Sinclair",
    "Ahmed",
    "Ali",
    "Khan",
    "Singh",
    "Kaur",
    "Okafor",
    "Lindqvist",
    "Raman",
    "Bennett",
    "Reyes",
    "Davies",
    "Jones",
    "Williams",
    "Brown",
    "Taylor",
    "Wilson",
    "Roberts",
    "Lewis",
    "Walker",
    "Robinson",
    "Wood",
    "Turner",
    "Hall",
    "Green",
    "Edwards",
    "Baker",
    "Hill",
    "Scott",
    "Cooper",
    "Ward",
    "Morris",
    "Price",
]


def _rng(seed: int) -> random.Random:
    """Seeded, so every build of a size is the same clinic (variety, not secrecy)."""
    return random.Random(seed)  # noqa: S311


def _minutes(moment: dt.datetime) -> int:
    return int(moment.timestamp()) // 60


def _moment(minute: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(minute * 60, tz=dt.UTC)


class Column(array):
    """An ``array('q')`` of one appointment attribute (compact: half a million rows)."""

    def __new__(cls) -> Column:
        return super().__new__(cls, "q")


class Diary:
    """Appointments in parallel arrays: index ``i`` is one appointment."""

    FIELDS = ("start", "practitioner", "room", "kind", "status", "patient", "series", "number")

    def __init__(self) -> None:
        self.start = Column()
        self.practitioner = Column()
        self.room = Column()
        self.kind = Column()  # index into the treatment types
        self.status = Column()
        self.patient = Column()
        self.series = Column()  # 0 = none
        self.number = Column()
        self.session: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.start)

    def add(self, *, start: int, practitioner: int, room: int, kind: int, status: int) -> int:
        self.start.append(start)
        self.practitioner.append(practitioner)
        self.room.append(room)
        self.kind.append(kind)
        self.status.append(status)
        self.patient.append(0)
        self.series.append(0)
        self.number.append(0)
        return len(self.start) - 1


@dataclass
class Catalogue:
    """What the diary needs to know about each treatment type, by index."""

    ids: list[int]
    durations: list[int]
    buffers: list[int]
    aftercare: list[str]
    maintenance_days: list[int]


class ClinicBuilder:
    def __init__(
        self,
        *,
        size: BenchSize,
        seed: int = 20261121,
        now: dt.datetime | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.size = size
        self.seed = seed
        self.now = now or timezone.now()
        self.tz = clock.clinic_tz()
        self.today = clock.today(self.now)
        self.log = log
        self.diary = Diary()
        self.counts: dict[str, int] = {}

    # -- entry point -------------------------------------------------------------------
    def build(self, *, vacuum: bool = True) -> dict[str, int]:
        """Write the clinic; ``vacuum=False`` inside a transaction (tests), where VACUUM cannot
        run."""
        if connection.vendor != "postgresql":
            raise RuntimeError("The benchmark clinic is written with COPY: PostgreSQL only.")
        if Patient.objects.exists() or Appointment.objects.exists():
            raise RuntimeError("The database already holds patients; build on an empty one.")
        with transaction.atomic():
            staff = self._staff_and_places()
            self.log("  diary: coming weeks")
            self._future_days()
            self.log("  diary: history")
            self._past_days()
            self.log(f"  diary: {len(self.diary):,} appointments; patients")
            patients = self._patients()
            self.log("  series and sessions")
            series_rows, sessions, assessments = self._series(patients)
            self._assign_patients(patients)
            self.log("  writing with COPY")
            self._write(staff, patients, series_rows, sessions, assessments)
        if vacuum:
            with connection.cursor() as cursor:
                # What autovacuum would have done on a clinic that grew over years.
                cursor.execute("VACUUM ANALYZE")
        return self.counts

    # -- staff, rooms, hours -------------------------------------------------------------
    def _staff_and_places(self) -> dict[str, Any]:
        user_model = get_user_model()
        unusable = make_password(None)
        groups = {role: Group.objects.get(name=GROUP_NAMES[role]) for role in Role}

        def user(username: str, first: str, last: str, role: str) -> Any:
            account = user_model.objects.create(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@{BENCH_DOMAIN}",
                password=unusable,
                is_staff=role == Role.MANAGER,
            )
            account.groups.add(groups[role])
            return account

        receptionist = user(RECEPTIONIST_USERNAME, "Rosa", "Bennett", Role.RECEPTIONIST)
        user(MANAGER_USERNAME, "Malcolm", "Reyes", Role.MANAGER)
        rng = _rng(self.seed)
        self.practitioners: list[Practitioner] = []
        for number in range(1, PRACTITIONER_COUNT + 1):
            given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
            account = user(f"bench-practitioner-{number:02d}", given, family, Role.PRACTITIONER)
            self.practitioners.append(
                Practitioner.objects.create(
                    user=account,
                    display_name=f"{given} {family}",
                    title="Skin therapist",
                    colour=f"#{rng.randrange(0x202020, 0xD0D0D0):06x}",
                )
            )
        self.rooms = [
            Room.objects.create(name=f"Treatment room {number}")
            for number in range(1, ROOM_COUNT + 1)
        ]
        types = list(TreatmentType.objects.filter(is_active=True).order_by("id")[:3])
        if len(types) < 3:
            raise RuntimeError("The treatment catalogue (data migration) is missing.")
        for index, treatment_type in enumerate(types):
            rooms = [self.rooms[i] for i in MICRONEEDLING_ROOMS] if index == 2 else self.rooms
            treatment_type.rooms.set(rooms)
        self.types = types
        self.catalogue = Catalogue(
            ids=[t.pk for t in types],
            durations=[t.default_duration_minutes for t in types],
            buffers=[t.buffer_minutes for t in types],
            aftercare=[t.aftercare_template for t in types],
            maintenance_days=[t.maintenance_interval_days for t in types],
        )
        OpeningHours.objects.all().delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(weekday=weekday, opens_at=dt.time(hours[0]), closes_at=dt.time(hours[1]))
            for weekday, hours in DAY_HOURS.items()
        )
        WorkingHours.objects.bulk_create(
            WorkingHours(
                practitioner=practitioner,
                weekday=weekday,
                starts_at=dt.time(hours[0]),
                ends_at=dt.time(hours[1]),
            )
            for practitioner in self.practitioners
            for weekday, hours in DAY_HOURS.items()
        )
        BookingSettings.load()
        return {"receptionist": receptionist}

    # -- the diary -----------------------------------------------------------------------
    def _day_candidates(self, day: dt.date, rng: random.Random) -> list[tuple[int, int, int]]:
        """Back-to-back appointments for every practitioner: (start minute, practitioner, kind)."""
        first_hour, last_hour = DAY_HOURS[day.weekday()]
        opens = _minutes(dt.datetime.combine(day, dt.time(first_hour), tzinfo=self.tz))
        closes = opens + (last_hour - first_hour) * 60
        durations, buffers = self.catalogue.durations, self.catalogue.buffers
        candidates = []
        for practitioner in range(PRACTITIONER_COUNT):
            cursor = opens
            while True:
                kind = rng.choices((0, 1, 2), TYPE_WEIGHTS)[0]
                if cursor + durations[kind] > closes:
                    break
                candidates.append((cursor, practitioner, kind))
                cursor += durations[kind] + buffers[kind]
        return candidates

    def _future_days(self) -> None:
        """Today to the horizon: rooms never double-booked; the same in every size."""
        rng = _rng(self.seed + 1)
        now_minute = _minutes(self.now)
        for offset in range(FUTURE_DAYS + 1):
            day = self.today + dt.timedelta(days=offset)
            fill = 0.97 if offset < 8 else 0.75 if offset < 22 else 0.3 if offset < 60 else 0.06
            room_free = [0] * ROOM_COUNT
            candidates = sorted(self._day_candidates(day, rng))
            for start, practitioner, kind in candidates:
                if rng.random() > fill:
                    continue
                blocked = start + self.catalogue.durations[kind] + self.catalogue.buffers[kind]
                rooms = MICRONEEDLING_ROOMS if kind == 2 else range(ROOM_COUNT)
                room = next((r for r in rooms if room_free[r] <= start), None)
                if room is None:
                    continue
                room_free[room] = blocked
                if start + self.catalogue.durations[kind] <= now_minute:
                    status = NO_SHOW if rng.random() < 0.04 else COMPLETED
                elif start < now_minute:
                    continue  # under way: left out rather than guessing "checked in"
                else:
                    status = CONFIRMED if rng.random() < 0.4 else BOOKED
                self.diary.add(
                    start=start, practitioner=practitioner, room=room, kind=kind, status=status
                )
        self.future_count = len(self.diary)

    def _past_days(self) -> None:
        """Back from yesterday until the appointment total is reached."""
        rng = _rng(self.seed + 2)
        target = self.size.appointments
        day = self.today
        while len(self.diary) < target:
            day -= dt.timedelta(days=1)
            for start, practitioner, kind in self._day_candidates(day, rng):
                if len(self.diary) >= target:
                    break
                if rng.random() > 0.96:
                    continue
                room = practitioner % ROOM_COUNT
                if kind == 2:
                    room = MICRONEEDLING_ROOMS[practitioner % len(MICRONEEDLING_ROOMS)]
                if rng.random() < 0.14:
                    # Cancelled, then the slot was given to someone else.
                    self.diary.add(
                        start=start,
                        practitioner=practitioner,
                        room=room,
                        kind=kind,
                        status=CANCELLED,
                    )
                    if len(self.diary) >= target:
                        break
                status = NO_SHOW if rng.random() < 0.045 else COMPLETED
                self.diary.add(
                    start=start, practitioner=practitioner, room=room, kind=kind, status=status
                )
        self.first_day = day

    # -- patients --------------------------------------------------------------------------
    def _patients(self) -> list[list[Any]]:
        """[id, given, family, birth, email, phone, suitability, assessed_on, created_at]."""
        rng = _rng(self.seed + 3)
        region = settings.CLINIC_PHONE_REGION
        created = dt.datetime.combine(self.first_day, dt.time(9), tzinfo=self.tz)
        patients = []
        for pk in range(1, self.size.patients + 1):
            given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
            ascii_slug = "".join(ch for ch in f"{given}.{family}".lower() if ch.isascii())
            email = "{}.{}@patients.example".format(ascii_slug.replace("'", ""), pk)
            phone = f"+447700900{pk % 1000:03d}"
            born = dt.date(1950 + rng.randrange(0, 56), rng.randrange(1, 13), rng.randrange(1, 29))
            patients.append(
                [pk, given, family, born, email, phone, Suitability.UNKNOWN, None, created, region]
            )
        return patients

    def _assign_patients(self, patients: list[list[Any]]) -> None:
        """Patients for appointments outside series; upcoming ones never double-book anyone."""
        rng = _rng(self.seed + 4)
        diary = self.diary
        count = len(patients)
        busy_days: set[tuple[int, int]] = set()
        for index in range(len(diary)):
            if diary.patient[index]:
                day = diary.start[index] // 1440
                busy_days.add((diary.patient[index], day))
        pointer = rng.randrange(count)
        for index in range(len(diary)):
            if diary.patient[index]:
                continue
            if diary.status[index] in (BOOKED, CONFIRMED):
                day = diary.start[index] // 1440
                while True:
                    pointer = (pointer + 7919) % count  # a prime stride visits everyone
                    if (pointer + 1, day) not in busy_days:
                        break
                busy_days.add((pointer + 1, day))
                diary.patient[index] = pointer + 1
            else:
                diary.patient[index] = rng.randrange(1, count + 1)

    # -- series ------------------------------------------------------------------------------
    def _series(
        self, patients: list[list[Any]]
    ) -> tuple[list[list[Any]], list[list[Any]], list[list[Any]]]:
        rng = _rng(self.seed + 5)
        diary = self.diary
        open_slots: dict[tuple[int, int], list[int]] = defaultdict(list)
        for index in range(len(diary)):
            if diary.status[index] in (COMPLETED, BOOKED, CONFIRMED):
                open_slots[(diary.start[index] // 1440, diary.kind[index])].append(index)
        for slots in open_slots.values():
            rng.shuffle(slots)
        today_day = _minutes(dt.datetime.combine(self.today, dt.time(12), tzinfo=self.tz)) // 1440
        first_day = today_day - (self.today - self.first_day).days
        future_patient_days: set[tuple[int, int]] = set()

        def take(day: int, kind: int, *, past: bool) -> int | None:
            for delta in (0, 1, -1, 2, 3):
                slots = open_slots.get((day + delta, kind))
                while slots:
                    index = slots.pop()
                    is_past = diary.status[index] == COMPLETED
                    if is_past == past:
                        return index
                    slots.insert(0, index)
                    break
            return None

        series_rows: list[list[Any]] = []
        sessions: list[list[Any]] = []
        assessments: list[list[Any]] = []
        session_target = self.size.sessions
        series_id = 0
        attempts = 0
        while len(sessions) < session_target and attempts < session_target * 20:
            attempts += 1
            kind = rng.choices((0, 1, 2), TYPE_WEIGHTS)[0]
            patient = rng.randrange(1, len(patients) + 1)
            start_day = rng.randrange(first_day, today_day + 10)
            planned = rng.randrange(4, 9)
            stop_after = rng.randrange(1, planned) if rng.random() < 0.04 else None
            # Some patients just stop coming: the series stays active and turns overdue.
            lapse_after = rng.randrange(1, planned) if rng.random() < 0.08 else None
            day = start_day
            done: list[tuple[int, int]] = []  # (appointment index, number)
            booked_next: int | None = None
            for number in range(1, planned + 1):
                if day < today_day:
                    index = take(day, kind, past=True)
                    if index is None:
                        break
                    done.append((index, number))
                    if (stop_after and number >= stop_after) or (
                        lapse_after and number >= lapse_after
                    ):
                        break
                    day += rng.randrange(14, 29)
                else:
                    if day - today_day <= FUTURE_DAYS and rng.random() < 0.7:
                        index = take(day, kind, past=False)
                        if index is not None:
                            key = (patient, diary.start[index] // 1440)
                            if key in future_patient_days:
                                open_slots[(key[1], kind)].append(index)
                            else:
                                future_patient_days.add(key)
                                booked_next = index
                                diary.series[index] = series_id + 1
                                diary.number[index] = number
                                diary.patient[index] = patient
                    break
            if not done and start_day < today_day:
                continue  # no free slot for its first session: try another series
            series_id += 1
            if booked_next is not None:
                diary.series[booked_next] = series_id
            if stop_after and len(done) >= stop_after:
                status = SeriesStatus.STOPPED
            elif len(done) >= planned:
                status = SeriesStatus.MAINTENANCE if rng.random() < 0.4 else SeriesStatus.COMPLETED
            elif done:
                status = SeriesStatus.ACTIVE
            else:
                status = SeriesStatus.PLANNED
            start_date = self.first_day + dt.timedelta(days=start_day - first_day)
            assessed_on = start_date - dt.timedelta(days=rng.randrange(0, 15))
            assessments.append([series_id, patient, kind, assessed_on])
            last_on = None
            practitioner = diary.practitioner[done[0][0]] if done else rng.randrange(20)
            for index, number in done:
                diary.series[index] = series_id
                diary.number[index] = number
                diary.patient[index] = patient
                session_id = len(sessions) + 1
                diary.session[index] = session_id
                performed = _moment(diary.start[index])
                last_on = performed.astimezone(self.tz).date()
                sessions.append([session_id, series_id, number, index, performed, rng.random()])
            patient_row = patients[patient - 1]
            patient_row[6] = Suitability.SUITABLE
            if patient_row[7] is None or assessed_on > patient_row[7]:
                patient_row[7] = assessed_on
            series_rows.append(
                [
                    series_id,
                    patient,
                    kind,
                    practitioner,
                    planned,
                    start_date,
                    status,
                    last_on,
                    len(done),
                ]
            )
        return series_rows, sessions, assessments

    # -- COPY --------------------------------------------------------------------------------
    def _write(
        self,
        staff: dict[str, Any],
        patients: list[list[Any]],
        series_rows: list[list[Any]],
        sessions: list[list[Any]],
        assessments: list[list[Any]],
    ) -> None:
        now = self.now
        receptionist_id = staff["receptionist"].pk
        practitioner_ids = [p.pk for p in self.practitioners]
        practitioner_users = [p.user_id for p in self.practitioners]
        room_ids = [r.pk for r in self.rooms]
        catalogue = self.catalogue
        diary = self.diary

        def patient_rows() -> Iterable[dict[str, Any]]:
            for (
                pk,
                given,
                family,
                born,
                email,
                phone,
                suitability,
                assessed,
                created,
                region,
            ) in patients:
                yield {
                    "id": pk,
                    "given_name": given,
                    "family_name": family,
                    "date_of_birth": born,
                    "email": email,
                    "phone": phone,
                    "search_text": patient_search_text(
                        given_name=given,
                        family_name=family,
                        email=email,
                        phone=phone,
                        region=region,
                    ),
                    "suitability": suitability,
                    "suitability_summary": (
                        "Suitable" if suitability == Suitability.SUITABLE else ""
                    ),
                    "assessed_on": assessed,
                    "created_at": created,
                    "updated_at": created,
                }

        self.counts["patients"] = copy_rows(Patient, patient_rows())

        assessment_of_series = {}

        def assessment_rows() -> Iterable[dict[str, Any]]:
            for pk, (series_id, patient, _kind, assessed_on) in enumerate(assessments, start=1):
                assessment_of_series[series_id] = pk
                signed = dt.datetime.combine(assessed_on, dt.time(10), tzinfo=self.tz)
                yield {
                    "id": pk,
                    "patient_id": patient,
                    "practitioner_id": practitioner_ids[pk % PRACTITIONER_COUNT],
                    "assessed_on": assessed_on,
                    "fitzpatrick": 2 + pk % 3,
                    "skin_type": "normal",
                    "concerns": json.dumps({"uneven_texture": "moderate", "dull_rough": "mild"}),
                    "outcome": Suitability.SUITABLE,
                    "outcome_summary": "Suitable",
                    "signed_at": signed,
                    "signed_by_id": practitioner_users[pk % PRACTITIONER_COUNT],
                    "created_at": signed,
                }

        self.counts["assessments"] = copy_rows(SkinAssessment, assessment_rows())

        def series_out() -> Iterable[dict[str, Any]]:
            for (
                pk,
                patient,
                kind,
                practitioner,
                planned,
                start,
                status,
                last_on,
                done,
            ) in series_rows:
                yield {
                    "id": pk,
                    "patient_id": patient,
                    "treatment_type_id": catalogue.ids[kind],
                    "planned_by_id": practitioner_ids[practitioner],
                    "assessment_id": assessment_of_series[pk],
                    "targeted_concerns": '["uneven_texture", "dull_rough"]',
                    "planned_sessions": planned,
                    "start_on": start,
                    "status": status,
                    "stop_reason": ("Patient moved away" if status == SeriesStatus.STOPPED else ""),
                    "screening_outcome": Suitability.SUITABLE,
                    "last_session_on": last_on,
                    "completed_sessions": done,
                    "created_by_id": practitioner_users[practitioner],
                    "created_at": dt.datetime.combine(start, dt.time(9), tzinfo=self.tz),
                }

        self.counts["series"] = copy_rows(TreatmentSeries, series_out())

        def session_rows() -> Iterable[dict[str, Any]]:
            for pk, series_id, number, index, performed, chance in sessions:
                kind = diary.kind[index]
                user_id = practitioner_users[diary.practitioner[index]]
                signed = performed + dt.timedelta(minutes=catalogue.durations[kind] + 5)
                yield {
                    "id": pk,
                    "series_id": series_id,
                    "number": number,
                    "practitioner_id": practitioner_ids[diary.practitioner[index]],
                    "performed_at": performed,
                    "areas": '["face"]' if chance < 0.7 else '["face", "neck"]',
                    "parameters": '{"intensity": 4, "vacuum": 5, "passes": 2}',
                    "duration_minutes": catalogue.durations[kind],
                    "redness": "mild" if chance < 0.6 else "none",
                    "comfort": 3 + int(chance * 3),
                    "logged_by_id": user_id,
                    "signed_at": signed,
                    "signed_by_id": user_id,
                    "created_at": performed,
                }

        self.counts["sessions"] = copy_rows(TreatmentSession, session_rows())

        def aftercare_rows() -> Iterable[dict[str, Any]]:
            for pk, _series, _number, index, performed, _chance in sessions:
                sent = performed + dt.timedelta(hours=1)
                yield {
                    "id": pk,
                    "session_id": pk,
                    "template_text": catalogue.aftercare[diary.kind[index]],
                    "status": "sent",
                    "sent_at": sent,
                    "created_at": sent,
                }

        self.counts["aftercare_notes"] = copy_rows(AftercareNote, aftercare_rows())

        def appointment_rows() -> Iterable[dict[str, Any]]:
            for index in range(len(diary)):
                kind = diary.kind[index]
                starts = _moment(diary.start[index])
                ends = starts + dt.timedelta(minutes=catalogue.durations[kind])
                status = diary.status[index]
                booked = starts - dt.timedelta(days=3 + index % 25)
                row = {
                    "id": index + 1,
                    "patient_id": diary.patient[index],
                    "practitioner_id": practitioner_ids[diary.practitioner[index]],
                    "room_id": room_ids[diary.room[index]],
                    "treatment_type_id": catalogue.ids[kind],
                    "series_id": diary.series[index] or None,
                    "series_session_number": diary.number[index] or None,
                    "treatment_session_id": diary.session.get(index),
                    "starts_at": starts,
                    "ends_at": ends,
                    "blocked_until": ends + dt.timedelta(minutes=catalogue.buffers[kind]),
                    "status": STATUS_VALUES[status],
                    "booked_by_id": receptionist_id,
                    "created_at": min(booked, now),
                    "updated_at": min(ends, now),
                }
                if status == CONFIRMED:
                    row["confirmed_at"] = min(booked + dt.timedelta(days=1), now)
                elif status == COMPLETED:
                    row["checked_in_at"] = starts - dt.timedelta(minutes=5)
                    row["completed_at"] = ends
                elif status == CANCELLED:
                    row["cancelled_at"] = booked + dt.timedelta(days=1)
                    row["cancellation_reason"] = "Patient cancelled by phone"
                yield row

        self.counts["appointments"] = copy_rows(Appointment, appointment_rows())

        def notice_rows() -> Iterable[dict[str, Any]]:
            # Every booking was confirmed to the patient, and every cancellation told: the
            # booking-notice sweep has nothing left to settle.
            for index in range(len(diary)):
                starts = _moment(diary.start[index])
                booked = min(starts - dt.timedelta(days=3 + index % 25), now)
                cancelled = diary.status[index] == CANCELLED
                yield {
                    "appointment_id": index + 1,
                    "version": 2 if cancelled else 1,
                    "settled_version": 2 if cancelled else 1,
                    "changed_at": booked + dt.timedelta(days=1) if cancelled else booked,
                    "told": NoticeTold.CANCELLED if cancelled else NoticeTold.BOOKED,
                    "told_starts_at": starts,
                    "told_practitioner_id": practitioner_ids[diary.practitioner[index]],
                    "told_at": booked + dt.timedelta(minutes=4),
                }

        self.counts["appointment_notices"] = copy_rows(AppointmentNotice, notice_rows())
        self.counts["ledger_messages"] = self._ledger(staff, sessions)
        for model in (
            Patient,
            SkinAssessment,
            TreatmentSeries,
            TreatmentSession,
            AftercareNote,
            Appointment,
        ):
            reset_sequence(model)
        self.counts["history_days"] = (self.today - self.first_day).days
        self.counts["future_appointments"] = self.future_count

    def _ledger(self, staff: dict[str, Any], sessions: list[list[Any]]) -> int:
        """The outbox's history: a sent reminder for every past appointment that took place
        and a sent aftercare email for every session, under the keys the sweeps use."""
        try:
            from bookings.reminders import aftercare_key, reminder_key
        except ImportError:
            return 0  # the reminders code is not in this checkout: no ledger to fill
        diary = self.diary
        appointment_type = ContentType.objects.get_for_model(Appointment).pk
        session_type = ContentType.objects.get_for_model(TreatmentSession).pk
        now_minute = _minutes(self.now)

        def rows() -> Iterable[dict[str, Any]]:
            pk = 0
            for index in range(len(diary)):
                if diary.status[index] not in (COMPLETED, NO_SHOW):
                    continue
                if diary.start[index] > now_minute:
                    continue
                starts = _moment(diary.start[index])
                sent = starts - dt.timedelta(hours=48)
                pk += 1
                yield {
                    "id": pk,
                    "kind": MessageKind.APPOINTMENT_REMINDER,
                    "idempotency_key": reminder_key(
                        SimpleNamespace(pk=index + 1, starts_at=starts), 48
                    ),
                    "patient_id": diary.patient[index],
                    "recipient": f"patient{diary.patient[index]}@patients.example",
                    "content_type_id": appointment_type,
                    "object_id": index + 1,
                    "subject": "Reminder: your appointment in 2 days",
                    "body_text": REMINDER_TEXT,
                    "status": MessageStatus.SENT,
                    "attempts": 1,
                    "due_at": sent,
                    "sent_at": sent,
                    "created_at": sent,
                }
            for session_id, _series, _number, _index, performed, _chance in sessions:
                sent = performed + dt.timedelta(hours=1)
                pk += 1
                yield {
                    "id": pk,
                    "kind": MessageKind.AFTERCARE,
                    "idempotency_key": aftercare_key(session_id),
                    "recipient": "aftercare@patients.example",
                    "content_type_id": session_type,
                    "object_id": session_id,
                    "subject": "Caring for your skin after today's treatment",
                    "body_text": REMINDER_TEXT,
                    "status": MessageStatus.SENT,
                    "attempts": 1,
                    "due_at": sent,
                    "sent_at": sent,
                    "created_at": sent,
                }

        count = copy_rows(OutboundMessage, rows())
        reset_sequence(OutboundMessage)
        return count


REMINDER_TEXT = (
    "Hello,\n\nThis is a reminder of your appointment at the clinic. If you cannot come, "
    "please use the link below to cancel or move it.\n\nSee you soon."
)


def _column_default(field: models.Field, now: dt.datetime) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default():
        value = field.get_default()
        if isinstance(field, models.JSONField):
            return json.dumps(value)
        return value
    if field.null:
        return None
    if isinstance(field, models.CharField | models.TextField) and field.blank:
        return ""
    raise RuntimeError(
        f"The benchmark builder does not know what to write in "
        f"{field.model.__name__}.{field.name} (no default): add it to dataset.py."
    )


def copy_rows(model: type[models.Model], rows: Iterable[dict[str, Any]]) -> int:
    """COPY dictionaries of attribute names into the model's table; other columns get defaults.

    JSON columns take JSON text; dates, aware datetimes, numbers and strings go as they are.
    """
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    fields = list(model._meta.concrete_fields)
    given = [field for field in fields if field.attname in first]
    now = timezone.now()
    defaults = {
        field.attname: _column_default(field, now) for field in fields if field.attname not in first
    }
    columns = given + [field for field in fields if field.attname in defaults]
    names = [field.attname for field in given]
    constant = tuple(defaults[field.attname] for field in columns[len(given) :])
    column_list = ", ".join(connection.ops.quote_name(field.column) for field in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy,
    ):
        for row in _chain_one(first, rows):
            copy.write_row(tuple(row.get(name) for name in names) + constant)
            count += 1
    return count


def _chain_one(first: dict[str, Any], rest: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    yield first
    yield from rest


def reset_sequence(model: type[models.Model]) -> None:
    """Move the id sequence past the ids COPY wrote, so the app's inserts do not collide."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608 - model table name
            f"GREATEST((SELECT MAX(id) FROM {connection.ops.quote_name(table)}), 1))",
            [table],
        )


def bench_day(*, now: dt.datetime | None = None) -> dt.date:
    """The busy day the calendar scenarios show: the next weekday (tomorrow at the latest)."""
    day = clock.today(now) + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day
