"""A database that is down or locked answers "try again", never a 500.

A PostgreSQL restart, a dropped connection or a SQLite file held by another writer past the
busy timeout is a fault of the moment, not of the request: pages get a short page saying to
try again, the API its usual ``{"detail": ...}`` body, both with status 503 and
``Retry-After``. The driver's text (host, port, file) goes to the log, never to the answer.
Programming mistakes are not hidden: PostgreSQL reports them as ``ProgrammingError``, and a
SQLite ``OperationalError`` counts only when its text says the file is busy or unreachable.
Django closes a broken connection at the end of the request (and checks a kept one before
reuse, ``CONN_HEALTH_CHECKS``), so the next request connects afresh.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
API_PREFIX = "/api/"
API_MESSAGE = "The clinic's database is busy or unavailable. Please try again in a moment."
# SQLite raises OperationalError for mistakes too ("no such table", syntax errors).
SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "database is busy",
    "unable to open database file",
    "disk i/o error",
)


def database_unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` means the database cannot answer now (connection or lock)."""
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if cause is not None and not isinstance(cause, sqlite3.Error):
        # psycopg: OperationalError is connection, shutdown, lock, deadlock and resource
        # faults; a mistake in a query is a ProgrammingError or an IntegrityError.
        return True
    text = str(error).lower()
    return any(marker in text for marker in SQLITE_UNAVAILABLE)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the API's JSON error body, or a page that needs no database."""
    response: HttpResponse
    if request.path.startswith(API_PREFIX):
        response = JsonResponse({"detail": API_MESSAGE}, status=503)
    else:
        # No request context: context processors and the user would query the database.
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def log_unavailable(request: HttpRequest, error: BaseException) -> None:
    logger.warning(
        "database unavailable for %s %s: %s: %s",
        request.method,
        request.path,
        type(error).__name__,
        error,
    )


class DatabaseUnavailableMiddleware:
    """Turns a connection or lock error raised by a view into :func:`unavailable_response`.

    Errors raised in other middleware (loading the session or the user) reach Django's
    500 handler, ``clinic.views.error_500``, which answers the same way.
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database_unavailable(exception):
            return None
        log_unavailable(request, exception)
        return unavailable_response(request)
