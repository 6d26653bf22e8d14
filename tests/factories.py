"""Factories for test data. State with invariants (signed sessions, bookings) is built by
calling the services, not by these factories."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from clinic.models import Patient, Practitioner, Room
from clinic.roles import GROUP_NAMES
from treatments.models import TreatmentType

TEST_PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@staff.example")

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or TEST_PASSWORD)
        if create:
            self.save()

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(Group.objects.get(name=GROUP_NAMES[extracted]))


class PractitionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practitioner

    display_name = factory.Faker("name")
    title = "Aesthetic nurse"


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Room {n + 1}")


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    date_of_birth = factory.Faker(
        "date_between", start_date=dt.date(1950, 1, 1), end_date=dt.date(2005, 12, 31)
    )
    email = factory.LazyAttributeSequence(
        lambda patient, n: (
            f"{patient.given_name}.{patient.family_name}.{n}@patients.example".lower()
        )
    )
    phone = factory.Sequence(lambda n: f"+4477009{n % 100000:05d}")
    # The usual test patient agreed to reminders (the model assumes no consent).
    email_reminders = True

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> Patient:
        patient = model_class(*args, **kwargs)
        patient.refresh_search_text()
        patient.save()
        return patient


def treatment_type(name: str = "Crystal microdermabrasion") -> TreatmentType:
    """The catalogue rows are installed by a data migration; tests fetch them by name."""
    return TreatmentType.objects.get(name=name)


def assessment_details(**changes: object) -> Any:
    """A healthy Fitzpatrick II assessment with normal skin, changed as a test needs."""
    from clinic import clock
    from treatments.services.assessments import AssessmentDetails

    values: dict[str, object] = {
        "assessed_on": clock.today(),
        "fitzpatrick": 2,
        "skin_type": "normal",
        "concerns": {"dull_rough": "mild"},
        "scar_type": "none",
        "contraindications": frozenset(),
    }
    values.update(changes)
    values["contraindications"] = frozenset(values["contraindications"])  # type: ignore[arg-type]
    return AssessmentDetails(**values)  # type: ignore[arg-type]


def record_assessment(patient: Patient, user: Any, *, sign: bool = True, **changes: object) -> Any:
    """An assessment recorded through the service, as the user's practitioner."""
    from treatments.services.assessments import assessment_record

    return assessment_record(
        patient=patient, user=user, details=assessment_details(**changes), sign=sign
    )
