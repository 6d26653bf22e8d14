"""Factories for rows with no invariants to keep (users, practitioners, rooms, patients).
State with invariants (assessments, series, signed sessions, bookings) is built by calling the
services: see ``tests/builders.py``."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from clinic.models import Patient, Practitioner, Room
from clinic.roles import GROUP_NAMES

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
    # Ofcom's drama range (07700 900000-900999), which clinic.phones accepts as fictional:
    # the old sequence left it after 999 patients and made invalid numbers in long runs.
    phone = factory.Sequence(lambda n: f"+447700900{n % 1000:03d}")
    # The usual test patient agreed to reminders (the model assumes no consent).
    email_reminders = True

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> Patient:
        patient = model_class(*args, **kwargs)
        patient.refresh_search_text()
        patient.save()
        return patient
