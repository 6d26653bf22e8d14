"""Settings for benchmark runs: the production settings plus a trivial page to compare with.

``make bench`` serves the app with these (``DJANGO_SETTINGS_MODULE=bookings.bench.settings``)
so the day calendar's throughput is measured against a trivial view behind the very same
middleware (session, CSRF, two-factor, audit context), in the same run, on the same server.
"""

from __future__ import annotations

from clinic.settings import *  # noqa: F403 - the benchmark runs the real settings

ROOT_URLCONF = "bookings.bench.urls"
