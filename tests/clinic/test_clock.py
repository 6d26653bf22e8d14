"""The clinic's clock: one zone, one today, one local day, both DST changes in London."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from clinic import clock

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC


@pytest.fixture(autouse=True)
def _london(settings):
    settings.CLINIC_TIME_ZONE = "Europe/London"


def test_the_clinic_zone_is_the_configured_one(settings):
    assert clock.clinic_tz() == LONDON
    settings.CLINIC_TIME_ZONE = "America/New_York"
    assert clock.clinic_tz() == ZoneInfo("America/New_York")


def test_today_is_the_clinic_day_not_the_utc_day():
    # 23:30 UTC on 30 June is 00:30 BST on 1 July.
    with time_machine.travel(dt.datetime(2026, 6, 30, 23, 30, tzinfo=UTC), tick=False):
        assert clock.now() == dt.datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
        assert clock.today() == dt.date(2026, 7, 1)


def test_today_of_a_given_now_reads_no_clock():
    assert clock.today(dt.datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == dt.date(2026, 12, 31)
    assert clock.today(dt.datetime(2026, 8, 31, 23, 0, tzinfo=UTC)) == dt.date(2026, 9, 1)


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (dt.datetime(2026, 7, 1, 23, 30, tzinfo=UTC), dt.date(2026, 7, 2)),
        (dt.datetime(2026, 12, 1, 23, 30, tzinfo=UTC), dt.date(2026, 12, 1)),
        (dt.datetime(2026, 3, 28, 23, 59, tzinfo=UTC), dt.date(2026, 3, 28)),
        (dt.datetime(2026, 3, 29, 0, 59, tzinfo=UTC), dt.date(2026, 3, 29)),
        (dt.datetime(2026, 3, 29, 23, 30, tzinfo=UTC), dt.date(2026, 3, 30)),
        (dt.datetime(2026, 10, 24, 23, 30, tzinfo=UTC), dt.date(2026, 10, 25)),
        (dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC), dt.date(2026, 10, 25)),
        (dt.datetime(2026, 10, 25, 23, 30, tzinfo=UTC), dt.date(2026, 10, 25)),
        (dt.datetime(2026, 3, 31, 20, 0, tzinfo=ZoneInfo("America/New_York")), dt.date(2026, 4, 1)),
    ],
    ids=[
        "bst-late",
        "gmt-late",
        "spring-eve",
        "spring-switch",
        "spring-after-local-midnight",
        "autumn-eve",
        "autumn-switch",
        "autumn-gmt-late",
        "new-york",
    ],
)
def test_local_day_is_the_day_on_the_clinic_wall(moment, day):
    assert clock.local_day(moment) == day


def test_a_naive_moment_is_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="aware datetime"):
        clock.local_day(dt.datetime(2026, 3, 20, 10))  # noqa: DTZ001 - the naive input is the point


def test_local_day_with_an_explicit_zone_reads_no_settings(settings):
    settings.CLINIC_TIME_ZONE = "Asia/Tokyo"
    moment = dt.datetime(2026, 3, 20, 23, 0, tzinfo=UTC)
    assert clock.local_day(moment, LONDON) == dt.date(2026, 3, 20)
    assert clock.local_day(moment) == dt.date(2026, 3, 21)


def test_ten_oclock_stays_ten_oclock_on_both_sides_of_the_spring_change():
    before = clock.local_datetime(dt.date(2026, 3, 28), dt.time(10))
    after = clock.local_datetime(dt.date(2026, 3, 30), dt.time(10))
    assert before == dt.datetime(2026, 3, 28, 10, tzinfo=UTC)
    assert after == dt.datetime(2026, 3, 30, 9, tzinfo=UTC)
    assert clock.localtime(after).time() == dt.time(10)


def test_a_wall_time_skipped_in_spring_does_not_exist():
    assert clock.local_datetime(dt.date(2026, 3, 29), dt.time(1, 30)) is None
    assert clock.local_datetime(dt.date(2026, 3, 29), dt.time(2, 0)) == dt.datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )


def test_a_wall_time_repeated_in_autumn_is_its_first_occurrence():
    moment = clock.local_datetime(dt.date(2026, 10, 25), dt.time(1, 30))
    assert moment == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST, not 01:30 GMT
    assert clock.local_datetime(dt.date(2026, 10, 25), dt.time(1, 30, fold=1)) == moment


def test_the_spring_change_day_has_23_hours_and_the_autumn_one_25():
    spring_start, spring_end = clock.day_bounds(dt.date(2026, 3, 29), dt.date(2026, 3, 29))
    autumn_start, autumn_end = clock.day_bounds(dt.date(2026, 10, 25), dt.date(2026, 10, 25))
    assert spring_start == dt.datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert spring_end - spring_start == dt.timedelta(hours=23)
    assert autumn_start == dt.datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert autumn_end - autumn_start == dt.timedelta(hours=25)


def test_day_bounds_cover_whole_local_days_of_a_range():
    start, end = clock.day_bounds(dt.date(2026, 7, 6), dt.date(2026, 7, 12))
    assert start == dt.datetime(2026, 7, 5, 23, 0, tzinfo=UTC)
    assert end == dt.datetime(2026, 7, 12, 23, 0, tzinfo=UTC)
    assert clock.local_day(start) == dt.date(2026, 7, 6)
    assert clock.local_day(end - dt.timedelta(microseconds=1)) == dt.date(2026, 7, 12)


def test_a_zone_that_skips_midnight_starts_its_day_when_the_clocks_resume():
    # Santiago springs forward at 00:00 -> 01:00 on the first Sunday of September 2026.
    santiago = ZoneInfo("America/Santiago")
    start = clock.start_of_day(dt.date(2026, 9, 6), santiago)
    assert start == dt.datetime(2026, 9, 6, 1, 0, tzinfo=santiago)
    assert clock.local_day(start - dt.timedelta(microseconds=1), santiago) == dt.date(2026, 9, 5)
