"""Measure the benchmark scenarios on the clinic ``bench_clinic`` built (see bench)."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from bench import delivery, load, scenarios
from bench.runner import Result, Scenario, format_table, measure

PAGE_RATIO_LIMIT = 0.2


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": postgres,
        "date": dt.datetime.now(tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


class Command(BaseCommand):
    help = "Measure the benchmark scenarios (median, p95, SQL queries) and write var/bench.json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", default="full", help="Label of the dataset measured.")
        parser.add_argument("--runs", type=int, default=50)
        parser.add_argument("--warmup", type=int, default=5)
        parser.add_argument("--output", default=str(Path(settings.VAR_DIR) / "bench.json"))
        parser.add_argument(
            "--throughput-seconds",
            type=int,
            default=10,
            help="Seconds per wrk round for the throughput comparison (0 skips it).",
        )
        parser.add_argument(
            "--deliver", type=int, default=5000, help="Reminders to deliver (0 skips it)."
        )
        parser.add_argument(
            "--only",
            nargs="*",
            help="Scenario keys to run, and 'throughput' or 'delivery' (default: all).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark runs on PostgreSQL (DATABASE_URL).")
        if options["runs"] < 1:
            raise CommandError("--runs must be at least 1.")
        output = Path(options["output"])
        report = json.loads(output.read_text()) if output.exists() else {}
        report.setdefault("sizes", {})
        report["machine"] = machine()
        size = options["size"]
        ctx = scenarios.make_context()
        self.stdout.write(
            f"Measuring the {size} clinic: {options['runs']} runs after {options['warmup']} "
            f"warm-up, calendar day {ctx.day.isoformat()}"
        )
        baseline = measure(
            Scenario(
                "trivial_view",
                "Trivial signed-in view (baseline)",
                None,
                prepare=lambda: scenarios.get_page(ctx, ["/bench/trivial"], "trivial view"),
                page=False,
                note="Same middleware as every page; its queries are the per-request floor.",
            ),
            runs=options["runs"],
            warmup=options["warmup"],
        )
        results: list[Result] = [baseline]
        floor = baseline.queries[0] if baseline.queries else 0
        for scenario in scenarios.page_scenarios(
            ctx, runs=options["runs"], warmup=options["warmup"]
        ):
            if options["only"] and scenario.key not in options["only"]:
                continue
            result = measure(
                scenario,
                runs=options["runs"],
                warmup=options["warmup"],
                floor_queries=floor,
            )
            results.append(result)
            self.stdout.write(f"  {result.title}: {self._summary(result)}")
        extra: dict[str, Any] = {}
        only = options["only"]
        if options["throughput_seconds"] > 0 and (not only or "throughput" in only):
            extra["throughput"] = self._throughput(ctx, options["throughput_seconds"])
        if options["deliver"] > 0 and (not only or "delivery" in only):
            extra["delivery"] = self._delivery(options["deliver"])
        report["sizes"][size] = {
            "results": [result.as_dict() for result in results],
            "extra": extra,
            "calendar_day": ctx.day.isoformat(),
            "counts": self._counts(),
        }
        ratios = self._ratios(report)
        report["ratios"] = ratios
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report, indent=2, default=str) + "\n")
        self.stdout.write("")
        self.stdout.write(self._machine_line(report["machine"]))
        self.stdout.write(f"Dataset: {self._counts_line(report['sizes'][size]['counts'])}")
        self.stdout.write(format_table(results, ratios.get("by_scenario") if ratios else None))
        self.stdout.write(
            f"SQL: the page's own queries + the {floor} every signed-in request pays (session and "
            "user lookups, session save in BEGIN/UPDATE/COMMIT), measured on the trivial view; "
            "query targets apply to the page's own."
        )
        for line in self._extra_lines(extra):
            self.stdout.write(line)
        if ratios:
            verdict = "yes" if ratios["all_within_limit"] else "NO"
            self.stdout.write(
                f"Cost does not grow with history (every page within {PAGE_RATIO_LIMIT:.0%} "
                f"between small and full): {verdict}"
            )
        self.stdout.write(f"Written to {output}")

    # -- parts ------------------------------------------------------------------------------
    def _summary(self, result: Result) -> str:
        if result.status != "measured":
            return f"{result.status}: {result.detail}"
        return (
            f"median {result.median_ms:.1f} ms, p95 {result.p95_ms:.1f} ms, "
            f"queries {sorted(set(result.queries))}"
        )

    def _throughput(self, ctx: scenarios.Context, seconds: int) -> dict[str, Any]:
        cookie_name = settings.SESSION_COOKIE_NAME
        cookie = f"{cookie_name}={ctx.client.cookies[cookie_name].value}"
        try:
            calendar_path = scenarios.url(
                "bookings:calendar_day", query={"date": ctx.day.isoformat()}
            )
        except scenarios.ScenarioUnavailable as error:
            return {"status": "unavailable", "detail": str(error), "target": 0.5}
        self.stdout.write(f"  throughput: gunicorn + wrk, {seconds} s per round")
        try:
            result = load.measure_throughput(
                cookie=cookie,
                trivial_path="/bench/trivial",
                calendar_path=calendar_path,
                seconds=seconds,
            )
        except load.LoadUnavailable as error:
            return {"status": "unavailable", "detail": str(error), "target": 0.5}
        return {
            "status": "measured",
            "trivial_rps": result.trivial_rps,
            "calendar_rps": result.calendar_rps,
            "trivial_median_latency_ms": result.trivial_latency_ms,
            "calendar_median_latency_ms": result.calendar_latency_ms,
            "ratio": result.ratio,
            "target": 0.5,
            "meets_target": result.ratio >= 0.5,
            "setup": (
                f"gunicorn {result.workers} sync workers, wrk {result.connections} connections, "
                f"{len(result.trivial_rps)} rounds of {result.seconds} s per page, alternating"
            ),
        }

    def _delivery(self, count: int) -> dict[str, Any]:
        self.stdout.write(f"  delivery: {count:,} reminders through a Celery worker to SMTP")
        try:
            result = delivery.deliver(count=count)
        except delivery.DeliveryUnavailable as error:
            return {"status": "unavailable", "detail": str(error), "target": 200}
        return {
            "status": "measured",
            "messages": result.messages,
            "seconds": result.seconds,
            "per_second": result.per_second,
            "concurrency": result.concurrency,
            "target": 200,
            "meets_target": result.per_second >= 200,
        }

    def _counts(self) -> dict[str, int]:
        from bookings.models import Appointment
        from clinic.models import Patient
        from treatments.models import TreatmentSeries, TreatmentSession

        return {
            "patients": Patient.objects.count(),
            "appointments": Appointment.objects.count(),
            "series": TreatmentSeries.objects.count(),
            "sessions": TreatmentSession.objects.count(),
        }

    def _ratios(self, report: dict[str, Any]) -> dict[str, Any]:
        sizes = report["sizes"]
        if "small" not in sizes or "full" not in sizes:
            return {}
        small = {row["key"]: row for row in sizes["small"]["results"]}
        by_scenario = {}
        for row in sizes["full"]["results"]:
            other = small.get(row["key"])
            if not row["page"] or not other or row["median_ms"] is None:
                continue
            if other["median_ms"] is None:
                continue
            by_scenario[row["key"]] = row["median_ms"] / other["median_ms"]
        return {
            "by_scenario": by_scenario,
            "limit": PAGE_RATIO_LIMIT,
            "all_within_limit": all(
                abs(ratio - 1) < PAGE_RATIO_LIMIT for ratio in by_scenario.values()
            ),
        }

    def _machine_line(self, info: dict[str, Any]) -> str:
        return (
            f"Machine: {info['cpu']}, {info['cores']} cores; PostgreSQL {info['postgresql']}, "
            f"Python {info['python']}, Django {info['django']}; {info['date']}"
        )

    def _counts_line(self, counts: dict[str, int]) -> str:
        return ", ".join(f"{count:,} {name}" for name, count in counts.items())

    def _extra_lines(self, extra: dict[str, Any]) -> list[str]:
        lines = []
        throughput = extra.get("throughput")
        if throughput:
            if throughput["status"] == "measured":
                trivial = sum(throughput["trivial_rps"]) / len(throughput["trivial_rps"])
                calendar = sum(throughput["calendar_rps"]) / len(throughput["calendar_rps"])
                lines.append(
                    f"Throughput: day calendar {calendar:.0f} req/s, trivial view "
                    f"{trivial:.0f} req/s, ratio {throughput['ratio']:.2f} (target >= 0.5): "
                    f"{'yes' if throughput['meets_target'] else 'NO'} ({throughput['setup']})"
                )
            else:
                lines.append(f"Throughput: {throughput['status']}: {throughput['detail']}")
        sent = extra.get("delivery")
        if sent:
            if sent["status"] == "measured":
                lines.append(
                    f"Delivery: {sent['messages']:,} reminders in {sent['seconds']:.1f} s = "
                    f"{sent['per_second']:.0f} messages/s (target >= 200): "
                    f"{'yes' if sent['meets_target'] else 'NO'} "
                    f"(Celery prefork x{sent['concurrency']}, Redis, aiosmtpd on loopback)"
                )
            else:
                lines.append(f"Delivery: {sent['status']}: {sent['detail']}")
        return lines
