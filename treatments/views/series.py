"""Treatment series pages: the list, planning, the series page, re-planning and stopping.

Everyone sees where a series stands and when its next session may be (receptionists book
it); the sessions' clinical detail is shown to practitioners and managers only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic import audit, clock
from clinic.formats import long_date
from clinic.models import Patient
from clinic.roles import CLINICAL_ROLES, Role, can_see_clinical, has_role, role_required
from treatments import rules
from treatments.choices import Concern, SeriesStatus
from treatments.forms.series import SeriesPlanForm, SeriesStopForm, SeriesUpdateForm
from treatments.models import TreatmentSeries, TreatmentType
from treatments.selectors_series import (
    OPEN_SERIES_STATUSES,
    current_screening,
    series_list,
    series_page,
    series_progress,
    series_sessions,
    session_trend,
)
from treatments.services.series import (
    SeriesError,
    planning_context,
    series_plan,
    series_start_maintenance,
    series_stop,
    series_update_plan,
)
from treatments.views.common import (
    own_practitioner,
    paginate,
    patient_page_url,
    series_booking_url,
)


def _get_series(series_id: int) -> TreatmentSeries:
    try:
        return series_page(series_id)
    except TreatmentSeries.DoesNotExist:
        raise Http404("No such series.") from None


@role_required()
def series_index(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in SeriesStatus.values:
        status = ""
    today = clock.today()
    page = paginate(request, series_list(status=status or None))
    rows = [(series, series_progress(series, today=today)) for series in page.object_list]
    return render(
        request,
        "treatments/series_list.html",
        {
            "page_obj": page,
            "rows": rows,
            "status": status,
            "statuses": SeriesStatus.choices,
            "window_labels": rules.WINDOW_STATUS_LABELS,
        },
    )


def _add_error(form: object, error: SeriesError) -> None:
    field = error.field if error.field in form.fields else None  # type: ignore[attr-defined]
    form.add_error(field, error.message)  # type: ignore[attr-defined]


@role_required(*CLINICAL_ROLES)
def series_plan_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    today = clock.today()
    context = planning_context(patient=patient, today=today)
    types = list(TreatmentType.objects.filter(is_active=True).order_by("name"))
    suggestions = {
        treatment_type.pk: context.suggested_sessions(treatment_type) for treatment_type in types
    }
    form_kwargs: dict[str, Any] = {
        "assessed_concerns": context.concerns,
        "suggestions": suggestions,
        "needs_override": context.needs_override,
    }
    form = None
    if context.assessment is not None and types:
        if request.method == "POST":
            form = SeriesPlanForm(request.POST, **form_kwargs)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    series = series_plan(
                        patient=patient,
                        treatment_type=data["treatment_type"],
                        planned_by=data["planned_by"],
                        targeted_concerns=data["targeted_concerns"],
                        planned_sessions=data["planned_sessions"],
                        start_on=data["start_on"],
                        override_reason=data.get("override_reason", ""),
                        by=request.user,
                        today=today,
                    )
                except SeriesError as error:
                    _add_error(form, error)
                else:
                    messages.success(
                        request,
                        f"{series.planned_sessions}-session series of {series.treatment_type} "
                        f"planned for {patient.full_name}.",
                    )
                    return redirect("treatments:series_detail", series.pk)
        else:
            first = types[0]
            practitioner = own_practitioner(request.user)
            form = SeriesPlanForm(
                initial={
                    "treatment_type": first.pk,
                    "targeted_concerns": list(context.concerns),
                    "planned_sessions": suggestions[first.pk],
                    "start_on": today,
                    "planned_by": practitioner.pk if practitioner else None,
                },
                **form_kwargs,
            )
    return render(
        request,
        "treatments/series_plan.html",
        {
            "patient": patient,
            "patient_url": patient_page_url(patient),
            "form": form,
            "planning": context,
            "suggestions": [(t, suggestions[t.pk]) for t in types],
            "can_override": has_role(request.user, Role.PRACTITIONER),
        },
    )


@role_required()
def series_detail(request: HttpRequest, series_id: int) -> HttpResponse:
    series = _get_series(series_id)
    today = clock.today()
    clinical = can_see_clinical(request.user)
    sessions = series_sessions(series)
    progress = series_progress(series, today=today)
    context: dict[str, Any] = {
        "series": series,
        "patient_url": patient_page_url(series.patient),
        "progress": progress,
        # Sessions still to do in an open series: the booking page proposes a time for each
        # one not yet booked (and says so when every one is).
        "book_sessions_url": series_booking_url(series)
        if series.status in OPEN_SERIES_STATUSES and progress.remaining
        else None,
        "sessions": sessions,
        "clinical": clinical,
        "today": today,
        "targeted": [
            str(Concern(concern).label)
            for concern in series.targeted_concerns
            if concern in Concern.values
        ],
    }
    if clinical:
        audit.record_view(series, patient_id=series.patient_id)
        signed = [session for session in sessions if session.signed_at]
        context.update(
            {
                "trend": session_trend(series, sessions),
                "draft": next((s for s in sessions if s.signed_at is None), None),
                "signed_count": len(signed),
                "screening": current_screening(series.patient, today=today),
                "can_log": series.status != SeriesStatus.STOPPED,
            }
        )
    return render(request, "treatments/series_detail.html", context)


@role_required(*CLINICAL_ROLES)
def series_update(request: HttpRequest, series_id: int) -> HttpResponse:
    series = _get_series(series_id)
    if series.status in (SeriesStatus.STOPPED, SeriesStatus.MAINTENANCE):
        messages.info(request, "A stopped or maintenance series cannot be re-planned.")
        return redirect("treatments:series_detail", series.pk)
    today = clock.today()
    assessed = dict(series.assessment.concerns) if series.assessment else {}
    start_locked = series.completed_sessions > 0 or series.sessions.exists()
    kwargs: dict[str, Any] = {"assessed_concerns": assessed, "start_locked": start_locked}
    if request.method == "POST":
        form = SeriesUpdateForm(request.POST, initial={"start_on": series.start_on}, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                series_update_plan(
                    series=series,
                    planned_sessions=data["planned_sessions"],
                    targeted_concerns=data["targeted_concerns"],
                    start_on=data["start_on"],
                    today=today,
                )
            except SeriesError as error:
                _add_error(form, error)
            else:
                messages.success(request, "Series plan saved.")
                return redirect("treatments:series_detail", series.pk)
    else:
        form = SeriesUpdateForm(
            initial={
                "targeted_concerns": series.targeted_concerns,
                "planned_sessions": series.planned_sessions,
                "start_on": series.start_on,
            },
            **kwargs,
        )
    return render(request, "treatments/series_form.html", {"series": series, "form": form})


@role_required(*CLINICAL_ROLES)
def series_stop_view(request: HttpRequest, series_id: int) -> HttpResponse:
    series = _get_series(series_id)
    if series.status == SeriesStatus.STOPPED:
        messages.info(request, "This series is already stopped.")
        return redirect("treatments:series_detail", series.pk)
    form = SeriesStopForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            series_stop(
                series=series,
                reason=form.cleaned_data["reason"],
                by=request.user,
                now=timezone.now(),
            )
        except SeriesError as error:
            _add_error(form, error)
        else:
            messages.success(request, "Series stopped. Its record stays on the patient's file.")
            return redirect("treatments:series_detail", series.pk)
    return render(request, "treatments/series_stop.html", {"series": series, "form": form})


@require_POST
@role_required(*CLINICAL_ROLES)
def series_maintenance(request: HttpRequest, series_id: int) -> HttpResponse:
    series = _get_series(series_id)
    try:
        series = series_start_maintenance(series=series)
    except SeriesError as error:
        messages.error(request, error.message)
    else:
        first = series_progress(series, today=clock.today()).maintenance_dates[:1]
        when = f" The first is due around {long_date(first[0])}." if first else ""
        messages.success(request, f"Maintenance started.{when}")
    return redirect("treatments:series_detail", series.pk)
