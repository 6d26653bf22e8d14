"""The app's URLs plus ``/bench/trivial``: a signed-in page that does no work of its own."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from clinic.urls import handler403, handler404, handler500  # noqa: F401 - same error pages
from clinic.urls import urlpatterns as clinic_urlpatterns


def trivial(request: HttpRequest) -> HttpResponse:
    """The baseline: what every signed-in page costs before the view does anything."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/trivial", trivial, name="bench_trivial"), *clinic_urlpatterns]
