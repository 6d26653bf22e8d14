"""Build the synthetic clinic ``make bench`` measures (PostgreSQL COPY; see bench)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bench.dataset import SIZES, ClinicBuilder


class Command(BaseCommand):
    help = (
        "Fill an empty PostgreSQL database with a synthetic clinic: 20 practitioners, 10 rooms, "
        "100,000 patients, 500,000 appointments over four years, 150,000 sessions "
        "(--size small: a tenth of the history)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", choices=sorted(SIZES), default="full")
        parser.add_argument("--seed", type=int, default=20261121)

    def handle(self, *args: Any, **options: Any) -> None:
        size = SIZES[options["size"]]
        started = time.perf_counter()
        self.stdout.write(f"Building the {size.name} benchmark clinic")
        builder = ClinicBuilder(size=size, seed=options["seed"], log=self.stdout.write)
        try:
            counts = builder.build()
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        summary = ", ".join(f"{name} {count:,}" for name, count in counts.items())
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Built in {elapsed:.0f} s: {summary}"))
