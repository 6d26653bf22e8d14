"""Timing and query counting for the benchmark scenarios, and the printed table.

A scenario is a callable that performs one operation (a request through Django's test client
to the real URL, or a direct call of a sweep) given the run number. It is warmed up, then
timed over ``runs`` calls; queries are counted separately with ``CaptureQueriesContext`` (the
capture costs time) over several calls, so "fixed" means the same count whatever the input.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


class ScenarioUnavailable(Exception):
    """The page or function a scenario measures does not exist (yet) in this checkout."""


class ScenarioFailed(Exception):
    """A measured call did not do what a user would expect (an error page, a refused booking)."""


@dataclass
class Scenario:
    key: str
    title: str
    target_ms: float | None  # the median must be at most this
    max_queries: int | None = None  # queries per call must be at most this (None: just fixed)
    min_queries: int | None = None
    # prepare() returns the callable measured: run(index) -> None (raise ScenarioFailed)
    prepare: Callable[[], Callable[[int], None]] | None = None
    page: bool = True  # a page scenario: compared between sizes
    note: str = ""
    # Requests through the test client pay the per-request floor (session and user lookups,
    # the session save): the trivial view's count, measured in the same run.
    through_client: bool = True


@dataclass
class Result:
    key: str
    title: str
    status: str  # "measured", "unavailable", "failed"
    runs: int = 0
    median_ms: float | None = None
    p95_ms: float | None = None
    min_ms: float | None = None
    queries: list[int] = field(default_factory=list)
    target_ms: float | None = None
    max_queries: int | None = None
    min_queries: int | None = None
    page: bool = True
    detail: str = ""
    note: str = ""
    floor_queries: int = 0  # the per-request floor included in ``queries``

    @property
    def own_queries(self) -> list[int]:
        """The page's (or sweep's) own queries, which the targets are about."""
        return [count - self.floor_queries for count in self.queries]

    @property
    def queries_fixed(self) -> bool:
        return len(set(self.queries)) == 1

    @property
    def meets_target(self) -> bool | None:
        if self.status != "measured":
            return None
        ok = self.target_ms is None or (self.median_ms or 0) <= self.target_ms
        if self.queries:
            ok = ok and self.queries_fixed
            if self.max_queries is not None:
                ok = ok and max(self.own_queries) <= self.max_queries
            if self.min_queries is not None:
                ok = ok and min(self.own_queries) >= self.min_queries
        return ok

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["queries_fixed"] = self.queries_fixed if self.queries else None
        data["own_queries"] = self.own_queries
        data["meets_target"] = self.meets_target
        return data


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


QUERY_SAMPLES = 5


def measure(
    scenario: Scenario,
    *,
    runs: int,
    warmup: int,
    query_samples: int = QUERY_SAMPLES,
    floor_queries: int = 0,
) -> Result:
    result = Result(
        key=scenario.key,
        title=scenario.title,
        status="measured",
        target_ms=scenario.target_ms,
        max_queries=scenario.max_queries,
        min_queries=scenario.min_queries,
        page=scenario.page,
        note=scenario.note,
        floor_queries=floor_queries if scenario.through_client else 0,
    )
    try:
        if scenario.prepare is None:
            raise ScenarioUnavailable("no scenario code")
        run = scenario.prepare()
        index = 0
        for _ in range(warmup):
            run(index)
            index += 1
        for _ in range(query_samples):
            with CaptureQueriesContext(connection) as captured:
                run(index)
            result.queries.append(len(captured.captured_queries))
            index += 1
        timings = []
        gc.collect()
        for _ in range(runs):
            started = time.perf_counter()
            run(index)
            timings.append((time.perf_counter() - started) * 1000)
            index += 1
    except ScenarioUnavailable as error:
        result.status, result.detail = "unavailable", str(error)
        return result
    except ScenarioFailed as error:
        result.status, result.detail = "failed", str(error)
        return result
    result.runs = len(timings)
    result.median_ms = statistics.median(timings)
    result.p95_ms = percentile(timings, 0.95)
    result.min_ms = min(timings)
    return result


def target_text(result: Result) -> str:
    parts = []
    if result.target_ms is not None:
        parts.append(f"<= {result.target_ms:g} ms")
    if result.max_queries is not None:
        low = f"{result.min_queries}-" if result.min_queries is not None else "<= "
        parts.append(f"{low}{result.max_queries} q")
    return ", ".join(parts)


def _verdict(result: Result) -> str:
    if result.target_ms is None and result.max_queries is None:
        return "-"  # measured for information (the baseline, all sweeps together)
    return "yes" if result.meets_target else "NO"


def format_table(results: list[Result], ratios: dict[str, float] | None = None) -> str:
    header = ["scenario", "median ms", "p95 ms", "SQL (own + floor)", "target", "ok"]
    if ratios is not None:
        header.insert(5, "full/small")
    rows = [header]
    for result in results:
        if result.status != "measured":
            row = [result.title, "-", "-", "-", target_text(result), result.status]
            if ratios is not None:
                row.insert(5, "-")
            rows.append(row)
            continue
        queries = "-"
        if result.queries:
            own = result.own_queries
            queries = str(own[0]) if result.queries_fixed else f"{min(own)}-{max(own)} (varies)"
            if result.floor_queries:
                queries += f" + {result.floor_queries}"
        row = [
            result.title,
            f"{result.median_ms:.1f}",
            f"{result.p95_ms:.1f}",
            queries,
            target_text(result),
            _verdict(result),
        ]
        if ratios is not None:
            ratio = ratios.get(result.key)
            row.insert(5, f"{ratio:.2f}" if ratio is not None else "-")
        rows.append(row)
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = []
    for number, row in enumerate(rows):
        lines.append(
            "| "
            + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            + " |"
        )
        if number == 0:
            lines.append("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)
