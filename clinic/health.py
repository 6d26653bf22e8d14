"""Health checks for ``/healthz``: the database and the Celery broker."""

from __future__ import annotations

from django.db import connection

from clinic.celery import app as celery_app


def database_status() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means "down"; the message says which
        return False, f"{type(error).__name__}: {error}"
    return True, "ok"


def broker_status() -> tuple[bool, str]:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            # Opening a channel proves the transport answers, not just that the URL parses.
            conn.default_channel  # noqa: B018
    except Exception as error:  # kombu raises transport-specific errors
        return False, f"{type(error).__name__}: {error}"
    return True, "ok"
