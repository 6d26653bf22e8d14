"""The performance benchmark behind ``make bench``: a synthetic clinic and its scenarios.

Tooling, not part of the app: nothing in ``clinic``, ``treatments`` or ``bookings`` imports
it, and the production settings do not install it. ``bench.settings`` (what
``scripts/bench.sh`` runs with) adds it to ``INSTALLED_APPS``, which brings its two
management commands: ``bench_clinic`` builds years of history with PostgreSQL COPY
(``dataset``); ``bench_run`` measures the pages through Django's test client and gunicorn
(``scenarios``, ``runner``, ``load``) and the delivery of due reminders (``delivery``).
"""
