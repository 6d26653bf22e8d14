"""Create N synthetic patients fast (bulk inserts), for trying the search at clinic scale.

    python manage.py generate_patients 100000

Names are drawn from an accented list, emails are unique (``...@generated.example``), phone
numbers are unique, and ``search_text`` is built by the same function the app uses, so the
search behaves exactly as on real records. Safe to run more than once: numbering continues.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import unicodedata
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from clinic.models import Patient, PreferredContact, patient_search_text

GENERATED_DOMAIN = "generated.example"

GIVEN_NAMES = [
    "Zoë", "José", "Siobhán", "Chloé", "Aoife", "Mateusz", "Hannah", "Liam", "Ana Lucía",
    "Noah", "Isla", "Yusuf", "Freya", "Oluwaseun", "Grace", "Mei", "Ravi", "Sofia", "Emily",
    "Kwame", "Élodie", "Niamh", "Tomás", "Amelia", "Fatima", "Lucas", "Olivia", "Björn", "Ama",
    "Charlotte", "Daniel", "Leila", "Róisín", "Marcus", "Ingrid", "Samuel", "Jürgen", "Ines",
    "Priya", "Amara", "Jonas", "Malcolm", "Rosa", "Dário", "Łucja", "Søren", "Aylin", "Nadia",
]  # fmt: skip
FAMILY_NAMES = [
    "Adeyemi", "Martínez", "O'Connor", "Dubois", "Murphy", "Kowalski", "Schäfer", "Walsh",
    "García", "Patel", "Campbell", "Demir", "Johansson", "Bello", "Thompson", "Chen", "Sharma",
    "Rossi", "Clarke", "Mensah", "Laurent", "Kelly", "Ó Briain", "Hughes", "Hussain", "Silva",
    "Wright", "Nilsson", "Owusu", "Evans", "Kim", "Haddad", "Byrne", "Greene", "Berg", "Okoro",
    "Novák", "Fischer", "Müller", "Nguyen", "Ferreira", "Lefèvre", "MacLeod", "Ng", "Smith-Jones",
    "Ahmed", "Khan", "Singh", "Kaur", "Okafor", "Lindqvist", "Raman", "Bennett", "Reyes",
]  # fmt: skip


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum()).lower()


class Command(BaseCommand):
    help = "Create N synthetic patients with bulk inserts (e.g. 100000 to try the search)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("count", type=int, help="How many patients to create.")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=20261121)

    def handle(self, *args: Any, count: int, batch_size: int, seed: int, **options: Any) -> None:
        if count < 1:
            raise CommandError("COUNT must be at least 1.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        rng = random.Random(seed + Patient.objects.count())
        region = settings.CLINIC_PHONE_REGION
        first = Patient.objects.filter(email__endswith=f"@{GENERATED_DOMAIN}").count() + 1
        started = time.monotonic()
        created = 0
        with transaction.atomic():
            while created < count:
                size = min(batch_size, count - created)
                batch = [
                    self._patient(first + created + offset, rng, region) for offset in range(size)
                ]
                Patient.objects.bulk_create(batch, batch_size=batch_size)
                created += size
                if options.get("verbosity", 1) > 1:
                    self.stdout.write(f"  {created:,} of {count:,}")
        seconds = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Created {created:,} patients in {seconds:.1f} s."))

    def _patient(self, number: int, rng: random.Random, region: str) -> Patient:
        given = rng.choice(GIVEN_NAMES)
        family = rng.choice(FAMILY_NAMES)
        email = f"{_ascii(given)}.{_ascii(family)}.{number}@{GENERATED_DOMAIN}"
        # The 07700 9xxxxx block, where fiction and drama numbers live: unique up to 100,000.
        phone = f"+4477009{number % 100_000:05d}"
        born = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(0, 70 * 365))
        patient = Patient(
            given_name=given,
            family_name=family,
            date_of_birth=born,
            email=email,
            phone=phone,
            preferred_contact=PreferredContact.EMAIL,
            email_reminders=rng.random() > 0.1,
            followup_opt_out=rng.random() < 0.05,
            is_active=rng.random() > 0.03,
        )
        patient.search_text = patient_search_text(
            given_name=given, family_name=family, email=email, phone=phone, region=region
        )
        return patient
