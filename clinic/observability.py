"""Errors that reach someone, without patient data; logs that can be followed per request.

- ``RequestIdMiddleware`` gives every request an id (a safe incoming ``X-Request-ID`` or a
  new one), answers it in the ``X-Request-ID`` header and keeps it in a context variable;
  ``RequestIdFilter`` puts it on every log record, and ``JsonFormatter`` (``LOG_FORMAT=json``)
  writes one JSON object per line.
- ``init_sentry`` starts Sentry when ``SENTRY_DSN`` is set. ``scrub_event`` and
  ``scrub_breadcrumb`` strip what could identify a patient before anything leaves the process:
  request bodies, cookies, query strings, users' emails and names, local variables, exception
  and log message text, and every value under a patient field's name. The exception's type and
  the stack trace's files, functions and lines stay: enough to find the fault.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

REDACTED = "[redacted]"
_request_id: ContextVar[str] = ContextVar("request_id", default="-")
# An incoming id is reused only when it cannot smuggle anything into a log line.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_EMAIL = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+")

# Keys whose values are (or may be) about a patient, wherever they appear in an event.
PATIENT_FIELDS = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "full_name",
        "patient",
        "email",
        "email_address",
        "phone",
        "phone_number",
        "mobile",
        "date_of_birth",
        "dob",
        "birth_date",
        "address",
        "notes",
        "note",
        "clinical_notes",
        "reason",
        "stop_reason",
        "contraindications",
        "other_contraindication",
        "aftercare",
        "body",
        "subject",
        "to",
        "recipient",
        "username",
        "ip_address",
    }
)
_SENSITIVE_HEADERS = frozenset({"cookie", "authorization", "x-csrftoken", "x-api-key"})


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    """Tags the request, its log lines and its answer with one id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", _request_id.get()),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _scrub_values(value: Any) -> Any:
    """Patient fields emptied and e-mail addresses masked, however deep."""
    if isinstance(value, dict):
        return {
            key: REDACTED if str(key).lower() in PATIENT_FIELDS else _scrub_values(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub_values(item) for item in value]
    if isinstance(value, str):
        return _EMAIL.sub(REDACTED, value)
    return value


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry ``before_send``: the event without anything that could name a patient."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: value
                for name, value in headers.items()
                if name.lower() not in _SENSITIVE_HEADERS
            }
    if isinstance(event.get("user"), dict):
        event["user"] = {"id": event["user"]["id"]} if "id" in event["user"] else {}
    for exception in (event.get("exception") or {}).get("values") or []:
        # The message can quote anything the code had in hand (a name, an email).
        exception["value"] = REDACTED
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    for thread in (event.get("threads") or {}).get("values") or []:
        for frame in (thread.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        # The template stays ("broker check failed: %s"); the values filled into it go.
        logentry.pop("params", None)
        logentry.pop("formatted", None)
    event.pop("extra", None)
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict):
        breadcrumbs["values"] = [
            crumb for crumb in map(scrub_breadcrumb, breadcrumbs.get("values") or []) if crumb
        ]
    return _scrub_values(event)


def scrub_breadcrumb(
    crumb: dict[str, Any], hint: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Sentry ``before_breadcrumb``: what happened (category, level, time), not its text."""
    return {key: crumb[key] for key in ("type", "category", "level", "timestamp") if key in crumb}


def init_sentry(*, dsn: str, environment: str, **options: Any) -> None:
    """Start Sentry with the Django and Celery integrations and the scrubbers above."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        # Types: sentry's Event is a TypedDict; scrub_event takes and returns any event dict.
        before_send=scrub_event,  # type: ignore[arg-type]
        before_breadcrumb=scrub_breadcrumb,
        **options,
    )
