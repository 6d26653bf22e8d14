from __future__ import annotations

import sys
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LogoutView
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clinic import audit, clock, db_faults, health, selectors, selectors_outbox, services, timeline
from clinic.forms import PatientForm, PatientSearchForm
from clinic.models import Patient
from clinic.roles import (
    Role,
    can_handle_privacy_requests,
    can_see_clinical,
    has_role,
    role_required,
)


@role_required()
def home(request: HttpRequest) -> HttpResponse:
    email_delivery = selectors_outbox.email_delivery(now=clock.now())
    # Those who would notice emails not going out see a stalled scheduler on their home page.
    beat_stalled = has_role(request.user, Role.MANAGER, Role.RECEPTIONIST) and not (
        health.beat_status(now=clock.now())
    )
    return render(
        request,
        "clinic/home.html",
        {"email_delivery": email_delivery, "beat_stalled": beat_stalled},
    )


class SignOutView(LogoutView):
    """GET asks "Sign out?" with a button (a link must not sign anyone out: CSRF); POST
    signs out and the sign-in page says so."""

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return render(request, "registration/logout_confirm.html")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have signed out.")
        return response


@role_required(Role.MANAGER)
def staff_list(request: HttpRequest) -> HttpResponse:
    return render(request, "clinic/staff_list.html", {"staff": selectors.staff_list()})


# --------------------------------------------------------------------------------------------
# Patients: every member of staff finds, registers and edits patients
# --------------------------------------------------------------------------------------------

PATIENTS_PER_PAGE = 25


@role_required()
def patient_list(request: HttpRequest) -> HttpResponse:
    """The patient list. With htmx (search as you type) only the results are sent back."""
    form = PatientSearchForm(request.GET or None)
    query = selectors.parse_patient_query(form.cleaned_query() if form.is_bound else "")
    status = form.cleaned_status() if form.is_bound else selectors.PatientStatus.ACTIVE
    page = selectors.patient_page(
        query=query,
        status=status,
        page_number=request.GET.get("page"),
        per_page=PATIENTS_PER_PAGE,
    )
    today = clock.today()
    rows = [(patient, patient.is_reassessment_due(today)) for patient in page.patients]
    context = {
        "form": form,
        "query": query,
        "status": status,
        "page": page,
        "rows": rows,
        "new_patient_url": _new_patient_url(query),
    }
    # Types: django-htmx's middleware sets request.htmx.
    partial = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    context["oob"] = partial
    response = render(
        request,
        "clinic/_patient_results.html" if partial else "clinic/patient_list.html",
        context,
    )
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _new_patient_url(query: selectors.PatientQuery) -> str:
    """ "Add a new patient" from a search that found nobody, with what was typed filled in."""
    url = reverse("clinic:patient_create")
    raw = query.text
    if not raw or query.too_short:
        return url
    if "@" in raw:
        return f"{url}?{_encode({'email': raw})}"
    if len(query.fragments) == 1 and query.fragments[0].isdigit():
        return f"{url}?{_encode({'phone': raw})}"
    given, _, family = raw.partition(" ")
    return f"{url}?{_encode({'given_name': given.title(), 'family_name': family.title()})}"


def _encode(values: dict[str, str]) -> str:
    return urlencode({key: value for key, value in values.items() if value})


def _patient_form(request: HttpRequest, *, initial: dict[str, Any], **kwargs: Any) -> PatientForm:
    return PatientForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        today=clock.today(),
        **kwargs,
    )


def _duplicates(
    request: HttpRequest, form: PatientForm, *, exclude_pk: int | None = None
) -> list[selectors.PossibleDuplicate]:
    """Possible duplicates, unless staff already saw them and chose "Save anyway"."""
    if "save_anyway" in request.POST:
        return []
    details = form.details()
    return selectors.possible_duplicates(
        given_name=details.given_name,
        family_name=details.family_name,
        date_of_birth=details.date_of_birth,
        email=details.email,
        exclude_pk=exclude_pk,
    )


@role_required()
def patient_create(request: HttpRequest) -> HttpResponse:
    prefill = {
        name: request.GET[name][:80]
        for name in ("given_name", "family_name", "email", "phone")
        if request.GET.get(name)
    }
    form = _patient_form(
        request,
        initial=prefill,
        submit_label="Save patient",
        cancel_url=reverse("clinic:patient_list"),
    )
    duplicates: list[selectors.PossibleDuplicate] = []
    if request.method == "POST" and form.is_valid():
        duplicates = _duplicates(request, form)
        if not duplicates:
            try:
                patient = services.patient_create(details=form.details())
            except services.InvalidPatientDetails as error:
                form.add_error(error.field, error.message)
            else:
                messages.success(request, f"{patient} has been added.")
                return redirect("clinic:patient_detail", pk=patient.pk)
    return render(
        request,
        "clinic/patient_form.html",
        {"form": form, "duplicates": duplicates, "title": "New patient"},
    )


@role_required()
def patient_update(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    detail_url = reverse("clinic:patient_detail", args=[patient.pk])
    if patient.erased_at is not None:
        messages.error(request, services.PatientErased.message)
        return redirect(detail_url)
    form = _patient_form(
        request,
        initial=PatientForm.initial_for(patient),
        submit_label="Save changes",
        cancel_url=detail_url,
    )
    duplicates: list[selectors.PossibleDuplicate] = []
    if request.method == "POST" and form.is_valid():
        duplicates = _duplicates(request, form, exclude_pk=patient.pk)
        if not duplicates:
            try:
                services.patient_update(patient=patient, details=form.details())
            except services.InvalidPatientDetails as error:
                form.add_error(error.field, error.message)
            else:
                messages.success(request, f"Changes to {patient} have been saved.")
                return redirect(detail_url)
    return render(
        request,
        "clinic/patient_form.html",
        {
            "form": form,
            "duplicates": duplicates,
            "patient": patient,
            "title": f"Edit {patient}",
        },
    )


@role_required()
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    if can_see_clinical(request.user):
        # The page shows this patient's clinical history to practitioners and managers.
        audit.record_view(patient)
    return render(
        request,
        "clinic/patient_detail.html",
        {
            "patient": patient,
            "reassessment_due": patient.is_reassessment_due(clock.today()),
            "reassessment_after_months": round(settings.REASSESSMENT_AFTER_DAYS / 30.44),
            "timeline": timeline.entries_for(patient, user=request.user),
            "actions": timeline.actions_for(patient, user=request.user),
            "sees_clinical": can_see_clinical(request.user),
            "handles_privacy": can_handle_privacy_requests(request.user),
        },
    )


@role_required()
def patient_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks "Archive this patient?"; POST archives. Works without JavaScript."""
    patient = get_object_or_404(Patient, pk=pk)
    if request.method == "POST":
        if patient.is_active:
            services.patient_archive(patient=patient)
            messages.success(
                request,
                f"{patient} is archived: hidden from the patient list, with nothing deleted.",
            )
        return redirect("clinic:patient_detail", pk=patient.pk)
    if not patient.is_active:
        messages.info(request, f"{patient} is already archived.")
        return redirect("clinic:patient_detail", pk=patient.pk)
    return render(
        request, "clinic/patient_confirm_archive.html", {"patient": patient, "archive": True}
    )


@role_required()
def patient_unarchive(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    if patient.erased_at is not None:
        messages.error(request, services.PatientErased.message)
        return redirect("clinic:patient_detail", pk=patient.pk)
    if request.method == "POST":
        if not patient.is_active:
            services.patient_unarchive(patient=patient)
            messages.success(request, f"{patient} is back on the patient list.")
        return redirect("clinic:patient_detail", pk=patient.pk)
    if patient.is_active:
        messages.info(request, f"{patient} is not archived.")
        return redirect("clinic:patient_detail", pk=patient.pk)
    return render(
        request, "clinic/patient_confirm_archive.html", {"patient": patient, "archive": False}
    )


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database_ok, database_detail = health.database_status()
    broker_ok, broker_detail = health.broker_status()
    healthy = database_ok and broker_ok
    # An email outage or a stalled scheduler is shown, not a 503: the pages still work, and
    # restarting the web fixes neither.
    email = health.email_status() if database_ok else {"ok": False}
    beat_ok = database_ok and health.beat_status(now=clock.now())
    return JsonResponse(
        {
            "status": ("ok" if email["ok"] and beat_ok else "degraded") if healthy else "error",
            "beat": {"ok": beat_ok},
            "database": {"ok": database_ok, "detail": database_detail},
            "broker": {"ok": broker_ok, "detail": broker_detail},
            "email": email,
        },
        status=200 if healthy else 503,
    )


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page names; send them to the static icon."""
    response = redirect(static("favicon.ico"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    # Reached for errors outside views too (loading the session or the user).
    error = sys.exc_info()[1]
    if db_faults.database_unavailable(error):
        # Types: called while handling an exception.
        db_faults.log_unavailable(request, error)  # type: ignore[arg-type]
        return db_faults.unavailable_response(request)
    # No context processors: the database may be what failed.
    return render(request, "500.html", status=500, using=None)
