"""Django's debug pages are for the person at this machine, never for the network.

``make run`` serves a clinic's desk PC in debug mode. Its technical pages - the URL map on a
404, the traceback, settings and local variables on a 500 - are a map of the app for anyone
else on the clinic's network. With ``DEBUG`` on, a request that did not come from this machine
gets the same 404, 400 and 500 pages as production.

"This machine" is ``REMOTE_ADDR`` (the socket's peer, which a client cannot choose) on a
loopback address, with no forwarding header: a proxy on the same host forwards other people's
requests from 127.0.0.1, and ``X-Forwarded-For`` is whatever the client wrote, so a request
carrying one counts as remote whatever it says.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, get_resolver, get_urlconf, resolve
from django.views.debug import ExceptionReporter

FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def from_this_machine(request: HttpRequest) -> bool:
    """True for a request made on this computer (loopback, not forwarded by a proxy)."""
    if any(request.META.get(header) for header in FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def public_error_response(
    request: HttpRequest, status: int, exception: Exception | None = None
) -> HttpResponse:
    """The page production shows for ``status`` (the project's handler404/400/500)."""
    callback = get_resolver(get_urlconf()).resolve_error_handler(status)
    if status == 500:
        return callback(request)
    # Types: 404/400/403 handlers take the exception; the stubs know only 500's.
    return callback(request, exception)  # type: ignore[call-arg]


class PublicErrorReporter(ExceptionReporter):
    """Renders the ordinary error page where the debug traceback would go."""

    def _status(self) -> int:
        if self.exc_type and issubclass(self.exc_type, SuspiciousOperation | BadRequest):
            return 400
        return 500

    # Types: Django writes out whatever text this returns.
    def get_traceback_html(self) -> str:  # type: ignore[override]
        # Types: Django calls the reporter with the request and exception it is reporting.
        response = public_error_response(self.request, self._status(), self.exc_value)  # type: ignore[arg-type]
        return response.content.decode(response.charset)

    # Types: Django writes out whatever text this returns.
    def get_traceback_text(self) -> str:  # type: ignore[override]
        if self._status() == 400:
            return "Bad request (400).\n"
        return "Server error (500): something went wrong on our side.\n"


class LocalDebugPagesMiddleware:
    """With ``DEBUG`` on, remote visitors get production's error pages.

    Sits inside the other middleware, so a 404 answered here is drawn like any other (the
    user, messages) and still gets ``CommonMiddleware``'s ``APPEND_SLASH`` redirect. Three
    ways lead to a technical page: an unknown URL (resolved here first, as the handler would),
    ``Http404`` from a view (``process_exception``), and any other exception (Django's debug
    500 asks the request for its reporter class).
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.DEBUG or from_this_machine(request):
            return self.get_response(request)
        request.exception_reporter_class = PublicErrorReporter  # type: ignore[attr-defined]
        try:
            resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404 as error:
            return public_error_response(request, 404, error)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if settings.DEBUG and isinstance(exception, Http404) and not from_this_machine(request):
            return public_error_response(request, 404, exception)
        return None
