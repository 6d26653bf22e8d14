"""Time the patient search the way the list page runs it, keystroke by keystroke.

    python manage.py generate_patients 100000
    python manage.py time_patient_search

For each typed prefix it runs what one search-as-you-type request runs (the COUNT for the
pager and the first page of 25) and prints the median and 95th percentile, and on
PostgreSQL whether the trigram index answers the query.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from clinic.models import Patient
from clinic.selectors import (
    PatientStatus,
    parse_patient_query,
    patient_list,
    patient_matches,
    patient_page,
)

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
    help = "Time the patient search (COUNT + first page of 25) for typed prefixes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repeat", type=int, default=15)

    def handle(self, *args: Any, repeat: int, **options: Any) -> None:
        total = Patient.objects.count()
        self.stdout.write(f"{total:,} patients on {connection.vendor}; {repeat} runs each")
        self.stdout.write(f"{'typed':<24}{'matches':>9}{'median ms':>11}{'p95 ms':>9}  plan")
        medians = []
        for typed in KEYSTROKES:
            query = parse_patient_query(typed)
            timings = []
            matches = 0
            for _ in range(repeat):
                started = time.perf_counter()
                page = patient_page(query=query, status=PatientStatus.ACTIVE, page_number=1)
                list(page.object_list)
                matches = page.paginator.count
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            median = statistics.median(timings)
            medians.append(median)
            p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
            self.stdout.write(
                f"{typed:<24}{matches:>9,}{median:>11.1f}{p95:>9.1f}  {self._plan(query)}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Median of medians {statistics.median(medians):.1f} ms, "
                f"slowest median {max(medians):.1f} ms."
            )
        )

    def _plan(self, query: Any) -> str:
        """How PostgreSQL finds the COUNT and the page: "count: trigram, page: name index"."""
        if connection.vendor != "postgresql" or query.too_short:
            return ""
        matches = patient_matches(query=query, status=PatientStatus.ACTIVE)
        page = patient_list(query=query, status=PatientStatus.ACTIVE, matches=matches.count())
        return f"count: {self._access(matches)}, page: {self._access(page[:25])}"

    def _access(self, queryset: Any) -> str:
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        if "patient_search_trgm_idx" in plan:
            return "trigram index"
        if "patient_name_idx" in plan:
            return "name index"
        return "table scan"
