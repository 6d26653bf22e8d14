"""Skin assessment pages: record, read, edit a draft, sign, amend.

Practitioners and managers only (receptionists get a 403 on every one of these pages; they
see the badge and reasons on patient pages). Writing needs a practitioner: a manager
without a practitioner profile can read everything and is told why the form is not there.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from clinic import audit, clock
from clinic.models import Patient
from clinic.roles import CLINICAL_ROLES, role_required
from treatments import selectors
from treatments.forms.assessments import AmendmentForm, AssessmentForm
from treatments.models import SkinAssessment
from treatments.services import assessments as services


def _patient_url(patient: Patient) -> str:
    return reverse("clinic:patient_detail", args=[patient.pk])


def _detail_url(assessment: SkinAssessment) -> str:
    return reverse("treatments:assessment_detail", args=[assessment.pk])


def _form_error(form: AssessmentForm, error: services.AssessmentError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def _not_allowed_page(
    request: HttpRequest, *, patient: Patient, title: str, message: str, back_url: str
) -> HttpResponse:
    return render(
        request,
        "treatments/assessment_not_allowed.html",
        {"patient": patient, "title": title, "message": message, "back_url": back_url},
        status=403,
    )


@role_required(*CLINICAL_ROLES)
def assessment_create(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_pk)
    practitioner = services.practitioner_of(request.user)
    today = clock.today()
    if practitioner is None:
        return _not_allowed_page(
            request,
            patient=patient,
            title="You cannot record assessments",
            message=services.not_a_practitioner_message(request.user),
            back_url=_patient_url(patient),
        )
    if not patient.is_active:
        messages.error(request, f"{patient} is archived. Unarchive the patient first.")
        return redirect(_patient_url(patient))
    form = AssessmentForm(
        request.POST or None,
        patient=patient,
        today=today,
        initial={"assessed_on": today},
        cancel_url=_patient_url(patient),
    )
    if request.method == "POST" and form.is_valid():
        sign = form.wants_signature()
        try:
            assessment = services.assessment_record(
                patient=patient, user=request.user, details=form.details(), sign=sign
            )
        except services.AssessmentError as error:
            _form_error(form, error)
        else:
            if sign:
                messages.success(
                    request, f"Assessment recorded and signed: {assessment.outcome_summary}."
                )
                return redirect(_patient_url(patient))
            messages.success(
                request,
                f"Draft saved: {assessment.outcome_summary}. Sign it when it is complete.",
            )
            return redirect(_detail_url(assessment))
    return render(
        request,
        "treatments/assessment_form.html",
        {
            "form": form,
            "patient": patient,
            "practitioner": practitioner,
            "title": "Record a skin assessment",
        },
    )


@role_required(*CLINICAL_ROLES)
def assessment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = selectors.assessment_for_page(pk)
    audit.record_view(assessment)
    practitioner = services.practitioner_of(request.user)
    page = selectors.assessment_page(assessment)
    return render(
        request,
        "treatments/assessment_detail.html",
        {
            "page": page,
            "assessment": assessment,
            "patient": assessment.patient,
            "is_author": practitioner is not None and practitioner.pk == assessment.practitioner_id,
            "can_amend": practitioner is not None and assessment.signed_at is not None,
            "cannot_write_reason": ""
            if practitioner
            else services.not_a_practitioner_message(request.user),
        },
    )


@role_required(*CLINICAL_ROLES)
def assessment_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a draft. A signed assessment is amended instead."""
    assessment = get_object_or_404(SkinAssessment.objects.select_related("patient"), pk=pk)
    if assessment.signed_at is not None:
        return redirect("treatments:assessment_amend", pk=assessment.pk)
    practitioner = services.practitioner_of(request.user)
    if practitioner is None or practitioner.pk != assessment.practitioner_id:
        message = (
            services.not_a_practitioner_message(request.user)
            if practitioner is None
            else f"Only {assessment.practitioner}, who recorded this draft, can edit or sign it."
        )
        return _not_allowed_page(
            request,
            patient=assessment.patient,
            title="You cannot edit this draft",
            message=message,
            back_url=_detail_url(assessment),
        )
    form = AssessmentForm(
        request.POST or None,
        patient=assessment.patient,
        today=clock.today(),
        initial=AssessmentForm.initial_from(services.AssessmentDetails.of(assessment)),
        cancel_url=_detail_url(assessment),
    )
    if request.method == "POST" and form.is_valid():
        sign = form.wants_signature()
        try:
            assessment = services.assessment_update_draft(
                assessment=assessment, user=request.user, details=form.details(), sign=sign
            )
        except services.AssessmentError as error:
            _form_error(form, error)
        else:
            if sign:
                messages.success(request, f"Assessment signed: {assessment.outcome_summary}.")
                return redirect(_patient_url(assessment.patient))
            messages.success(request, "Draft saved.")
            return redirect(_detail_url(assessment))
    return render(
        request,
        "treatments/assessment_form.html",
        {
            "form": form,
            "patient": assessment.patient,
            "assessment": assessment,
            "practitioner": practitioner,
            "title": "Edit draft assessment",
        },
    )


@role_required(*CLINICAL_ROLES)
def assessment_amend(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a signed assessment: the same form plus a required reason."""
    assessment = get_object_or_404(SkinAssessment.objects.select_related("patient"), pk=pk)
    if assessment.signed_at is None:
        return redirect("treatments:assessment_update", pk=assessment.pk)
    practitioner = services.practitioner_of(request.user)
    if practitioner is None:
        return _not_allowed_page(
            request,
            patient=assessment.patient,
            title="You cannot amend assessments",
            message=services.not_a_practitioner_message(request.user),
            back_url=_detail_url(assessment),
        )
    form = AmendmentForm(
        request.POST or None,
        patient=assessment.patient,
        today=clock.today(),
        initial=AssessmentForm.initial_from(services.AssessmentDetails.of(assessment)),
        cancel_url=_detail_url(assessment),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_amend(
                assessment=assessment,
                user=request.user,
                details=form.details(),
                reason=form.cleaned_data["reason"],
            )
        except services.AssessmentError as error:
            _form_error(form, error)
        else:
            assessment.refresh_from_db()
            messages.success(
                request, f"Amendment saved. Screening now: {assessment.outcome_summary}."
            )
            return redirect(_detail_url(assessment))
    return render(
        request,
        "treatments/assessment_form.html",
        {
            "form": form,
            "patient": assessment.patient,
            "assessment": assessment,
            "practitioner": practitioner,
            "title": "Amend a signed assessment",
        },
    )


@role_required(*CLINICAL_ROLES)
@require_POST
def assessment_sign(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = get_object_or_404(SkinAssessment, pk=pk)
    try:
        services.assessment_sign(assessment=assessment, user=request.user)
    except services.AssessmentError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Assessment signed. From now on it can only be amended.")
    return redirect(_detail_url(assessment))
