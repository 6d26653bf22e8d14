"""Settings for benchmark runs: the production settings plus a trivial page to compare with.

``make bench`` serves the app with these (``DJANGO_SETTINGS_MODULE=bench.settings``) so the
day calendar's throughput is measured against a trivial view behind the very same middleware
(session, CSRF, two-factor, audit context), in the same run, on the same server. Installing
``bench`` here, and only here, brings the ``bench_clinic`` and ``bench_run`` commands.
"""

from __future__ import annotations

from clinic.settings import *  # noqa: F403 - the benchmark runs the real settings
from clinic.settings import INSTALLED_APPS as APP_INSTALLED_APPS

INSTALLED_APPS = [*APP_INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"
