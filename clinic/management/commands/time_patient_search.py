"""Time the patient search the way the list page runs it, keystroke by keystroke.

    python manage.py generate_patients 100000
    python manage.py time_patient_search

For each typed prefix it runs what one search-as-you-type request runs (one statement: the
first page of 25 and one row more, to know whether more match) and prints the median and 95th
percentile, and on PostgreSQL which plan found the page: a walk of the name index or a sort of
every match read through the trigram index.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import Patient
from clinic.selectors import PatientStatus, parse_patient_query, patient_page

KEYSTROKES = [
    "ma",
    "mar",
    "mart",
    "martinez",
    "zoe ad",
    "zoe adeyemi",
    "siobhan o'c",
    "ng",
    "smith-jo",
    "07700 9",
    "07700 900123",
    "+44 7700 912345",
    "jose.garcia.4",
    "@generated.example",
    "nobody-by-this-name",
]


class Command(BaseCommand):
    help = "Time the patient search (first page of 25, one query) for typed prefixes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repeat", type=int, default=15)

    def handle(self, *args: Any, repeat: int, **options: Any) -> None:
        total = Patient.objects.count()
        self.stdout.write(f"{total:,} patients on {connection.vendor}; {repeat} runs each")
        self.stdout.write(f"{'typed':<24}{'shown':>9}{'median ms':>11}{'p95 ms':>9}  plan")
        medians = []
        for typed in KEYSTROKES:
            query = parse_patient_query(typed)
            timings = []
            shown = ""
            for _ in range(repeat):
                started = time.perf_counter()
                page = patient_page(query=query, status=PatientStatus.ACTIVE, page_number=1)
                shown = f"{len(page.patients)}{'+' if page.has_next else ''}"
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            median = statistics.median(timings)
            medians.append(median)
            p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
            self.stdout.write(
                f"{typed:<24}{shown:>9}{median:>11.1f}{p95:>9.1f}  {self._plan(query)}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Median of medians {statistics.median(medians):.1f} ms, "
                f"slowest median {max(medians):.1f} ms."
            )
        )

    def _plan(self, query: Any) -> str:
        """Which plan PostgreSQL ran for the page: "name walk" or "sort of all matches"."""
        if connection.vendor != "postgresql" or query.too_short:
            return ""
        with CaptureQueriesContext(connection) as captured:
            patient_page(query=query, status=PatientStatus.ACTIVE, page_number=1)
        (statement,) = captured.captured_queries
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {statement['sql']}")
            plan = [row[0] for row in cursor.fetchall()]
        sorted_matches = any(
            "CTE Scan on matching" in line and "never executed" not in line for line in plan
        )
        return "sort of all matches" if sorted_matches else "name walk"
