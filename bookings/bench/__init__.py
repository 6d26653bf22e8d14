"""The performance benchmark behind ``make bench``: a synthetic clinic and its scenarios.

``dataset`` builds years of history with PostgreSQL COPY (management command
``bench_clinic``); ``scenarios`` and ``runner`` measure the pages through Django's test
client and gunicorn (management command ``bench_run``). Nothing here is imported by the app.
"""
