from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinic import health, selectors
from clinic.roles import Role, role_required


@role_required()
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "clinic/home.html")


@role_required(Role.MANAGER)
def staff_list(request: HttpRequest) -> HttpResponse:
    return render(request, "clinic/staff_list.html", {"staff": selectors.staff_list()})


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database_ok, database_detail = health.database_status()
    broker_ok, broker_detail = health.broker_status()
    healthy = database_ok and broker_ok
    return JsonResponse(
        {
            "status": "ok" if healthy else "error",
            "database": {"ok": database_ok, "detail": database_detail},
            "broker": {"ok": broker_ok, "detail": broker_detail},
        },
        status=200 if healthy else 503,
    )


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    # No context processors: the database may be what failed.
    return render(request, "500.html", status=500, using=None)
