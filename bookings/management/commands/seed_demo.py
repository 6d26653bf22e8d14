"""Build a believable demo clinic: staff, rooms, hours, patients in every stage, appointments.

Lives in ``bookings`` because it touches every app (imports flow clinic <- treatments <-
bookings). Safe to run twice: a second run only resets the demo passwords.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from contextlib import suppress
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from bookings import services
from bookings.models import (
    Appointment,
    BookingSettings,
    TimeOff,
    WorkingHours,
)
from clinic import clock
from clinic.models import (
    ClinicClosure,
    OpeningHours,
    Patient,
    Practitioner,
    Room,
    normalise_for_search,
)
from clinic.roles import GROUP_NAMES, Role
from treatments import rules
from treatments.catalogue import DEFAULT_TREATMENT_TYPES
from treatments.choices import SeriesStatus
from treatments.models import (
    AftercareNote,
    SkinAssessment,
    TreatmentSeries,
    TreatmentSession,
    TreatmentType,
)
from treatments.services.assessments import AssessmentDetails, assessment_record

DEMO_DOMAIN = "demo.clinic.example"

SessionSlot = tuple[Patient, TreatmentSeries | None, int | None]
DEFAULT_PASSWORD = "clinic-demo"  # noqa: S105 - the documented demo password

STAFF = [
    ("reception", "Rosa", "Bennett", Role.RECEPTIONIST),
    ("practitioner", "Amara", "Okafor", Role.PRACTITIONER),
    ("manager", "Malcolm", "Reyes", Role.MANAGER),
]
PRACTITIONERS = [
    ("Amara Okafor", "Aesthetic nurse", "#2f6f73", "practitioner"),
    ("Jonas Lindqvist", "Skin therapist", "#7b4fa0", None),
    ("Priya Raman", "Dermal clinician", "#b5542b", None),
]
ROOMS = ["Room 1 (crystal)", "Room 2 (diamond)", "Room 3 (microneedling)"]

PATIENT_NAMES = [
    ("Zoë", "Adeyemi"),
    ("José", "Martínez"),
    ("Siobhán", "O'Connor"),
    ("Chloé", "Dubois"),
    ("Aoife", "Murphy"),
    ("Mateusz", "Kowalski"),
    ("Hannah", "Schäfer"),
    ("Liam", "Walsh"),
    ("Ana Lucía", "García"),
    ("Noah", "Patel"),
    ("Isla", "Campbell"),
    ("Yusuf", "Demir"),
    ("Freya", "Johansson"),
    ("Oluwaseun", "Bello"),
    ("Grace", "Thompson"),
    ("Mei", "Chen"),
    ("Ravi", "Sharma"),
    ("Sofia", "Rossi"),
    ("Emily", "Clarke"),
    ("Kwame", "Mensah"),
    ("Élodie", "Laurent"),
    ("Niamh", "Kelly"),
    ("Tomás", "Ó Briain"),
    ("Amelia", "Hughes"),
    ("Fatima", "Hussain"),
    ("Lucas", "Silva"),
    ("Olivia", "Wright"),
    ("Björn", "Nilsson"),
    ("Ama", "Owusu"),
    ("Charlotte", "Evans"),
    ("Daniel", "Kim"),
    ("Leila", "Haddad"),
    ("Róisín", "Byrne"),
    ("Marcus", "Greene"),
    ("Ingrid", "Berg"),
    ("Samuel", "Okoro"),
]


class Command(BaseCommand):
    help = "Create a demo clinic (staff users, rooms, treatment types, patients, appointments)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Run even with DJANGO_DEBUG off.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates demo users with a known password; it refuses to run with "
                "DJANGO_DEBUG off. Pass --force if you really want demo data here."
            )
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        # No transaction around the whole: the services it calls (assessments, bookings) each
        # open their own durable one, as they do for a person using the app.
        users = self._staff(password)
        if Patient.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").exists():
            self.stdout.write("Demo clinic already present: staff passwords reset.")
            return
        session_slots, practitioners, types = self._clinic(users)
        # Booked through the services, so the demo obeys every rule the app enforces:
        # hours, the 15-minute grid, closures, time off, spacing.
        self._appointments(session_slots, practitioners, types, users)
        self.stdout.write(self.style.SUCCESS(self._summary()))

    # -- staff ------------------------------------------------------------------------
    def _staff(self, password: str) -> dict[str, Any]:
        user_model = get_user_model()
        users = {}
        for username, first, last, role in STAFF:
            user, _ = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@{DEMO_DOMAIN}",
                },
            )
            user.set_password(password)
            user.is_active = True
            user.is_staff = role == Role.MANAGER  # admin access is for managers
            user.save()
            user.groups.set([Group.objects.get(name=GROUP_NAMES[role])])
            users[username] = user
        return users

    # -- the clinic -------------------------------------------------------------------
    def _clinic(
        self, users: dict[str, Any]
    ) -> tuple[list[SessionSlot], list[Practitioner], list[TreatmentType]]:
        rng = random.Random(20261121)
        tz = clock.clinic_tz()
        now = timezone.now()
        today = clock.today(now)

        practitioners = []
        for name, title, colour, username in PRACTITIONERS:
            practitioner, _ = Practitioner.objects.get_or_create(
                display_name=name,
                defaults={
                    "title": title,
                    "colour": colour,
                    "user": users.get(username) if username else None,
                },
            )
            practitioners.append(practitioner)
        rooms = [Room.objects.get_or_create(name=name)[0] for name in ROOMS]

        types = []
        for entry, room in zip(DEFAULT_TREATMENT_TYPES, rooms, strict=True):
            treatment_type, _ = TreatmentType.objects.get_or_create(
                name=entry["name"], defaults=entry
            )
            treatment_type.rooms.add(room)
            types.append(treatment_type)
        # The crystal machine can also run in room 2 on busy days.
        types[0].rooms.add(rooms[1])

        if not OpeningHours.objects.exists():
            for weekday in range(5):
                OpeningHours.objects.create(
                    weekday=weekday, opens_at=dt.time(8), closes_at=dt.time(20)
                )
            OpeningHours.objects.create(weekday=5, opens_at=dt.time(9), closes_at=dt.time(17))
        BookingSettings.load()
        christmas = dt.date(today.year, 12, 25)
        ClinicClosure.objects.get_or_create(
            date=christmas if christmas >= today else christmas.replace(year=today.year + 1),
            defaults={"reason": "Christmas Day"},
        )
        away = _open_day_from(today + dt.timedelta(days=10))
        TimeOff.objects.create(
            practitioner=practitioners[2],
            starts_at=dt.datetime.combine(away, dt.time(13, 45), tzinfo=tz),
            ends_at=dt.datetime.combine(away, dt.time(18), tzinfo=tz),
            reason="Training course",
        )
        for practitioner in practitioners:
            if practitioner.working_hours.exists():
                continue
            for weekday in range(6):
                WorkingHours.objects.create(
                    practitioner=practitioner,
                    weekday=weekday,
                    starts_at=dt.time(9) if weekday < 5 else dt.time(9, 30),
                    ends_at=dt.time(18) if weekday < 5 else dt.time(16),
                    break_starts_at=dt.time(13),
                    break_ends_at=dt.time(13, 45),
                )

        patients = []
        for index, (given, family) in enumerate(PATIENT_NAMES):
            born = dt.date(1960 + rng.randrange(0, 45), rng.randrange(1, 13), rng.randrange(1, 28))
            # "Siobhán O'Connor" -> "siobhan.oconnor"
            slug = normalise_for_search(f"{given}.{family}").replace(" ", "").replace("'", "")
            patient = Patient(
                given_name=given,
                family_name=family,
                date_of_birth=born,
                email=f"{slug}@{DEMO_DOMAIN}",
                phone=f"+4477009{index:05d}",
                followup_opt_out=index % 11 == 5,
                email_reminders=index % 13 != 7,
                is_active=index not in (34, 35),
            )
            patient.refresh_search_text()
            patient.save()
            patients.append(patient)

        stages = (
            ["new"] * 5
            + ["suitable"] * 4
            + ["not_suitable"] * 3
            + ["caution"] * 3
            + ["series"] * 16
            + ["maintenance"] * 3
            + ["archived"] * 2
        )
        session_slots: list[SessionSlot] = []
        for patient, stage in zip(patients, stages, strict=True):
            if stage in {"new", "archived"}:
                session_slots.append((patient, None, None))
                continue
            facts = self._facts(stage, today, rng)
            # Through the service, so the patient's badge is set as in real use; signed at
            # noon on the day of the assessment.
            assessment = assessment_record(
                patient=patient,
                user=users["practitioner"],
                details=AssessmentDetails(
                    assessed_on=facts.assessed_on,
                    fitzpatrick=facts.fitzpatrick,
                    skin_type=facts.skin_type,
                    concerns=dict(facts.concerns),
                    scar_type=facts.scar_type,
                    contraindications=facts.contraindications,
                ),
                sign=True,
                now=dt.datetime.combine(facts.assessed_on, dt.time(12), tzinfo=tz),
            )
            if stage not in {"series", "maintenance"}:
                session_slots.append((patient, None, None))
                continue
            treatment_type = types[rng.randrange(0, 2)]
            done = rng.randrange(1, 6) if stage == "series" else 6
            series = self._series(
                patient, assessment, treatment_type, practitioners, users, done, stage, now, tz, rng
            )
            session_slots.append((patient, series, done + 1 if stage == "series" else None))

        return session_slots, practitioners, types

    def _facts(self, stage: str, today: dt.date, rng: random.Random) -> rules.AssessmentFacts:
        concerns = {"dull_rough": "mild", "uneven_texture": "moderate"}
        contraindications: frozenset[str] = frozenset()
        fitzpatrick, skin_type, scar_type = rng.choice([2, 3]), "normal", "none"
        if stage == "not_suitable":
            contraindications = frozenset({rng.choice(["rosacea", "eczema", "active_acne"])})
        elif stage == "caution":
            fitzpatrick, skin_type = rng.choice([(5, "normal"), (3, "sensitive"), (4, "oily")])
        elif stage in {"series", "maintenance"}:
            concerns = rng.choice(
                [
                    {"acne_scars": "moderate", "uneven_texture": "moderate"},
                    {"congested_pores": "mild", "oily_skin": "moderate"},
                    {"fine_lines": "mild", "age_spots": "moderate", "sun_damage": "mild"},
                    {"hyperpigmentation": "severe"},
                ]
            )
            scar_type = "shallow" if "acne_scars" in concerns else "none"
        # An old assessment for a few patients shows "reassessment due".
        age_days = (
            rng.randrange(200, 260)
            if stage == "suitable" and rng.random() < 0.5
            else (rng.randrange(60, 150))
        )
        return rules.AssessmentFacts(
            assessed_on=today - dt.timedelta(days=age_days),
            fitzpatrick=fitzpatrick,
            skin_type=skin_type,
            concerns=concerns,
            scar_type=scar_type,
            contraindications=contraindications,
        )

    def _series(
        self,
        patient: Patient,
        assessment: SkinAssessment,
        treatment_type: TreatmentType,
        practitioners: list[Practitioner],
        users: dict[str, Any],
        done: int,
        stage: str,
        now: dt.datetime,
        tz: ZoneInfo,
        rng: random.Random,
    ) -> TreatmentSeries:
        gaps = [rng.randrange(14, 29) for _ in range(done)]
        # The last session was 3 to 35 days ago: some windows not open yet, some open,
        # some closing and a few overdue.
        last_days_ago = rng.randrange(3, 36) if stage == "series" else rng.randrange(20, 45)
        first_at = now - dt.timedelta(days=last_days_ago + sum(gaps[1:]))
        first_local = first_at.astimezone(tz).replace(hour=10, minute=0, second=0, microsecond=0)
        series = TreatmentSeries.objects.create(
            patient=patient,
            treatment_type=treatment_type,
            planned_by=practitioners[0],
            assessment=assessment,
            targeted_concerns=list(assessment.concerns),
            planned_sessions=6,
            start_on=first_local.date(),
            status=SeriesStatus.ACTIVE if stage == "series" else SeriesStatus.MAINTENANCE,
        )
        performed_local = first_local
        for number in range(1, done + 1):
            if number > 1:
                performed_local = (performed_local + dt.timedelta(days=gaps[number - 1])).replace(
                    tzinfo=tz
                )
            session = TreatmentSession.objects.create(
                series=series,
                number=number,
                practitioner=rng.choice(practitioners),
                performed_at=performed_local,
                areas=["face"] if rng.random() < 0.7 else ["face", "neck"],
                parameters=self._settings(treatment_type, number, rng),
                duration_minutes=30,
                redness=rng.choice(["none", "mild", "mild", "moderate"]),
                comfort=rng.randrange(3, 6),
                signed_at=performed_local + dt.timedelta(minutes=40),
                signed_by=users["practitioner"],
            )
            AftercareNote.objects.create(
                session=session,
                template_text=treatment_type.aftercare_template,
                status="sent",
                sent_at=performed_local + dt.timedelta(hours=1),
            )
        series.completed_sessions = done
        series.last_session_on = performed_local.date()
        series.save(update_fields=["completed_sessions", "last_session_on"])
        return series

    @staticmethod
    def _settings(treatment_type: TreatmentType, number: int, rng: random.Random) -> dict[str, Any]:
        """Values for every parameter the type records, intensity creeping up over the series."""
        values: dict[str, Any] = {}
        for spec in treatment_type.parameter_specs:
            if spec.choices:
                values[spec.name] = spec.choices[min(number, len(spec.choices)) - 1]
            elif spec.minimum is not None and spec.maximum is not None:
                low, high = int(spec.minimum), int(spec.maximum)
                values[spec.name] = max(low, min(high, low + number + rng.randrange(0, 2)))
        return values

    def _appointments(
        self,
        slots: list[SessionSlot],
        practitioners: list[Practitioner],
        types: list[TreatmentType],
        users: dict[str, Any],
    ) -> None:
        """Today and this week, with a few inside the 2-hour and 48-hour reminder windows.

        Every appointment is booked through :func:`bookings.services.appointment_book`; a
        start a rule refuses (hours, break, closure, time off, spacing, taken) is skipped.
        Earlier today is booked "as of" two days ago, then checked in or completed.
        """
        rng = random.Random(20261122)
        tz = clock.clinic_tz()
        now = timezone.now()
        local_now = now.astimezone(tz)
        starts: list[dt.datetime] = [
            _next_quarter_hour(now + dt.timedelta(minutes=offset), tz)
            for offset in (
                75,  # reminder due at once (2 h)
                105,
                30 * 60,  # reminder due at once (48 h)
                40 * 60,
            )
        ]
        for day_offset in range(0, 7):
            day = (local_now + dt.timedelta(days=day_offset)).date()
            for hour in (9, 10, 11, 14, 15, 16):
                local = dt.datetime.combine(day, dt.time(hour, rng.choice([0, 30])), tzinfo=tz)
                if local > local_now + dt.timedelta(hours=2) or day_offset == 0:
                    starts.append(local.astimezone(dt.UTC))
        active = [slot for slot in slots if slot[0].is_active]
        booked_patients: set[int] = set()
        for index, start in enumerate(starts):
            patient, series, number = active[index % len(active)]
            if patient.pk in booked_patients and series is not None:
                continue
            # Every other series is left unbooked, so the due list has patients to call.
            if series is not None and series.pk % 2 == 0 and start > now:
                continue
            treatment_type = series.treatment_type if series else types[index % 2]
            booked_as_of = min(now, start - dt.timedelta(days=2))
            appointment = None
            for turn in range(len(practitioners)):  # the next practitioner if one is busy
                practitioner = practitioners[(index + turn) % len(practitioners)]
                try:
                    appointment = services.appointment_book(
                        patient=patient,
                        practitioner=practitioner,
                        treatment_type=treatment_type,
                        starts_at=start,
                        booked_by=users["reception"],
                        series=series if number else None,
                        series_session_number=number,
                        now=booked_as_of,
                    )
                    break
                except services.DomainError:
                    continue  # a rule says no to this start: the demo obeys it
            if appointment is None:
                continue
            booked_patients.add(patient.pk)
            with suppress(services.DomainError):  # it stays booked if a transition says no
                if start < now:
                    if rng.random() < 0.5:
                        services.appointment_complete(
                            appointment=appointment, completed_by=users["practitioner"], now=now
                        )
                    else:
                        services.appointment_check_in(
                            appointment=appointment, checked_in_by=users["reception"], now=now
                        )
                elif rng.random() < 0.5:
                    services.appointment_confirm(
                        appointment=appointment, confirmed_by=users["reception"], now=now
                    )

    def _summary(self) -> str:
        return (
            f"Demo clinic ready: {Practitioner.objects.count()} practitioners, "
            f"{Room.objects.count()} rooms, {TreatmentType.objects.count()} treatment types, "
            f"{Patient.objects.count()} patients, {TreatmentSeries.objects.count()} series, "
            f"{Appointment.objects.count()} appointments."
        )


def _next_quarter_hour(moment: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """``moment`` rounded up to the clinic's 15-minute grid (appointments start on it)."""
    local = moment.astimezone(tz).replace(second=0, microsecond=0)
    if moment.astimezone(tz) > local or local.minute % 15:
        local += dt.timedelta(minutes=15 - local.minute % 15)
    return local.astimezone(dt.UTC)


def _open_day_from(day: dt.date) -> dt.date:
    """The first weekday from ``day`` (the demo clinic opens Monday to Saturday) that is not
    a closure: time off goes on days the clinic is open."""
    closed = set(ClinicClosure.objects.values_list("date", flat=True))
    open_weekdays = set(OpeningHours.objects.values_list("weekday", flat=True))
    while day in closed or day.weekday() not in open_weekdays:
        day += dt.timedelta(days=1)
    return day
