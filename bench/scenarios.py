"""The measured scenarios: each resolves its real URL and checks every response it times.

A page that does not exist in this checkout makes its scenario "unavailable" (reported as
such, never guessed). Pages are requested by a signed-in receptionist through Django's test
client, so every middleware (session, CSRF, two-factor, audit) runs as for a real user.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from bench.dataset import RECEPTIONIST_USERNAME, bench_day
from bench.runner import QUERY_SAMPLES, Scenario, ScenarioFailed, ScenarioUnavailable
from bookings import calendar_cache
from clinic import clock
from clinic.models import Patient, Practitioner
from treatments.models import TreatmentType

# What a receptionist types, one keystroke at a time (names, an e-mail and a phone number).
TYPED_SEARCHES = (
    "o",
    "ok",
    "oka",
    "okaf",
    "okafo",
    "okafor",
    "ma",
    "mar",
    "mart",
    "martí",
    "martín",
    "zo",
    "zoë",
    "zoë a",
    "zoë ad",
    "07700",
    "0770090",
    "077009001",
    "siobhan",
    "siobhan o'c",
)


@dataclass
class Context:
    client: Client
    now: dt.datetime
    tz: ZoneInfo
    day: dt.date
    practitioner: Practitioner
    treatment_type: TreatmentType


def make_context() -> Context:
    user = get_user_model().objects.get(username=RECEPTIONIST_USERNAME)
    client = Client()
    client.force_login(user)
    now = timezone.now()
    return Context(
        client=client,
        now=now,
        tz=clock.clinic_tz(),
        day=bench_day(now=now),
        practitioner=Practitioner.objects.filter(is_active=True).order_by("display_name").first(),
        treatment_type=TreatmentType.objects.filter(is_active=True).order_by("id").first(),
    )


def url(name: str, *, query: dict[str, Any] | None = None, **kwargs: Any) -> str:
    try:
        path = reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        raise ScenarioUnavailable(f"no URL named {name!r} in this checkout") from None
    return f"{path}?{urlencode(query)}" if query else path


def expect(response: Any, status: int, what: str, *, contains: str | None = None) -> None:
    if response.status_code != status:
        location = response.headers.get("Location", "")
        raise ScenarioFailed(f"{what}: HTTP {response.status_code} {location}".strip())
    if contains is not None and contains.encode() not in response.content:
        raise ScenarioFailed(f"{what}: the page does not show {contains!r}")


def get_page(ctx: Context, addresses: list[str], what: str, **headers: str) -> Callable:
    cycle = itertools.cycle(addresses)

    def run(_index: int) -> None:
        expect(ctx.client.get(next(cycle), headers=headers or None), 200, what)

    return run


# -- pages ---------------------------------------------------------------------------------


def day_calendar(ctx: Context) -> Callable[[int], None]:
    address = url("bookings:calendar_day", query={"date": ctx.day.isoformat()})
    return get_page(ctx, [address], "day calendar")


def week_view(ctx: Context) -> Callable[[int], None]:
    week_start = ctx.day - dt.timedelta(days=ctx.day.weekday())
    address = url(
        "bookings:calendar_week",
        practitioner_id=ctx.practitioner.pk,
        query={"date": week_start.isoformat()},
    )
    return get_page(ctx, [address], "week view")


def slot_search(ctx: Context) -> Callable[[int], None]:
    first = ctx.day
    address = url(
        "bookings:slot_search",
        query={
            "treatment_type": ctx.treatment_type.pk,
            "first_day": first.isoformat(),
            "last_day": (first + dt.timedelta(days=13)).isoformat(),
        },
    )
    return get_page(ctx, [address], "slot search")


def patient_search(ctx: Context) -> Callable[[int], None]:
    addresses = [url("clinic:patient_list", query={"q": text}) for text in TYPED_SEARCHES]
    # As the search box sends it: an htmx request for the results only.
    return get_page(ctx, addresses, "patient search", HX_Request="true")


def due_list(ctx: Context) -> Callable[[int], None]:
    return get_page(ctx, [url("bookings:due_list")], "due list")


BOOKING_FIRST_DAY = 61  # days ahead: the diary is thin there, so every run finds a slot


def booking_requests(ctx: Context, count: int) -> list[dict[str, str]]:
    """One free slot per run, every one at a different start time, for different patients."""
    from bookings import selectors

    first = ctx.now.astimezone(ctx.tz).date() + dt.timedelta(days=BOOKING_FIRST_DAY)
    found = selectors.free_slots(
        treatment_type=ctx.treatment_type,
        first_day=first,
        last_day=first + dt.timedelta(days=13),
        now=ctx.now,
    )
    # A start per (day, hour), so no booking can overlap another one in this run.
    chosen: dict[tuple[dt.date, int], Any] = {}
    for slot_day in found.days:
        for option in slot_day.options:
            local = option.local_start
            chosen.setdefault((local.date(), local.hour), option)
    options = list(chosen.values())
    patients = list(
        Patient.objects.filter(is_active=True, suitability="suitable")
        .exclude(appointments__starts_at__gte=ctx.now)
        .order_by("id")
        .values_list("pk", flat=True)[: len(options)]
    )
    if min(len(options), len(patients)) < count:
        raise ScenarioFailed(f"only {len(options)} free slots for {count} bookings")
    return [
        {
            "patient": str(patient),
            "treatment_type": str(ctx.treatment_type.pk),
            "practitioner": str(option.practitioner.pk),
            "date": option.local_start.date().isoformat(),
            "time": option.local_start.strftime("%H:%M"),
            "notes": "Booked by the benchmark",
        }
        for option, patient in zip(options, patients, strict=False)
    ]


def book_appointment(ctx: Context, count: int) -> Callable[[int], None]:
    address = url("bookings:appointment_new")
    requests = booking_requests(ctx, count)

    def run(index: int) -> None:
        response = ctx.client.post(address, requests[index])
        if response.status_code != 302:
            errors = ""
            form = response.context.get("form") if response.context else None
            if form is not None:
                errors = f": {form.errors.as_text()}"
            raise ScenarioFailed(f"booking {requests[index]} refused{errors}")

    return run


# -- sweeps -------------------------------------------------------------------------------


def _idle_sweep(ctx: Context, name: str) -> Callable[[int], None]:
    try:
        from bookings import reminders
    except ImportError:
        raise ScenarioUnavailable("bookings.reminders is not in this checkout") from None
    sweep = getattr(reminders, name)
    # The first sweeps record whatever is due now (the clinic's steady state, as after any
    # beat tick); after that nothing is due and each sweep only looks.
    reminders.sweep_all(now=ctx.now)

    def run(_index: int) -> None:
        recorded = sweep(now=ctx.now)
        if recorded:
            raise ScenarioFailed(f"the idle sweep recorded {len(recorded)} messages")

    return run


def reminder_sweep_idle(ctx: Context) -> Callable[[int], None]:
    return _idle_sweep(ctx, "sweep_appointment_reminders")


def all_sweeps_idle(ctx: Context) -> Callable[[int], None]:
    return _idle_sweep(ctx, "sweep_all")


def drawn(
    make: Callable[[Context], Callable[[int], None]],
) -> Callable[[Context], Callable[[int], None]]:
    """The same page with the drawn-calendar cache emptied before every look: the cost of
    the first look after any change to the schedule (bookings/calendar_cache.py)."""

    def prepare(ctx: Context) -> Callable[[int], None]:
        run = make(ctx)

        def fresh(index: int) -> None:
            caches[calendar_cache.CACHE_ALIAS].clear()
            run(index)

        return fresh

    return prepare


def page_scenarios(ctx: Context, *, runs: int = 50, warmup: int = 5) -> list[Scenario]:
    def bind(function: Callable[[Context], Callable[[int], None]]) -> Callable:
        return lambda: function(ctx)

    return [
        Scenario(
            "day_calendar",
            "Day calendar, 20 practitioners, a busy day",
            25,
            max_queries=10,
            prepare=bind(day_calendar),
        ),
        Scenario("week_view", "Week view, one practitioner", 25, prepare=bind(week_view)),
        Scenario(
            "day_calendar_drawn",
            "Day calendar drawn anew (first look after a change)",
            25,
            max_queries=10,
            prepare=bind(drawn(day_calendar)),
        ),
        Scenario(
            "week_view_drawn",
            "Week view drawn anew (first look after a change)",
            25,
            prepare=bind(drawn(week_view)),
        ),
        Scenario(
            "slot_search",
            "Slot search, one treatment, all practitioners, 14 days",
            40,
            max_queries=8,
            prepare=bind(slot_search),
        ),
        Scenario(
            "patient_search",
            f"Patient search as you type ({Patient.objects.count():,} patients)",
            15,
            max_queries=2,
            min_queries=1,
            prepare=bind(patient_search),
        ),
        Scenario("due_list", "Due for next session, first page", 50, prepare=bind(due_list)),
        Scenario(
            "reminder_sweep_idle",
            "Reminder sweep (appointment reminders), nothing due",
            10,
            prepare=bind(reminder_sweep_idle),
            through_client=False,
        ),
        Scenario(
            "all_sweeps_idle",
            "All patient-message sweeps (the beat task), nothing due",
            None,
            prepare=bind(all_sweeps_idle),
            through_client=False,
            note="Notices, reminders, aftercare, follow-ups and maintenance; no target set.",
        ),
        # Last: the bookings it makes would give the notice sweep work after its grace period.
        Scenario(
            "book_appointment",
            "Book one appointment (page POST, all rules)",
            30,
            prepare=lambda: book_appointment(ctx, runs + warmup + QUERY_SAMPLES),
        ),
    ]
