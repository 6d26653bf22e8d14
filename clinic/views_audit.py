"""Managers' pages: the audit report (with CSV export) and patients' GDPR rights."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from clinic import audit, audit_display, clock, csv_safe, privacy
from clinic.forms_security import AuditFilterForm
from clinic.models import AuditAction, AuditEntry, Patient
from clinic.roles import PRIVACY_ROLES, Role, role_required

PAGE_SIZE = 50
CSV_COLUMNS = [
    "seq",
    "time",
    "user_id",
    "username",
    "ip_address",
    "user_agent",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "before",
    "after",
    "detail",
    "redacted",
    "hash",
    # Readable columns: names, labels and clinic-local times, as on the report page.
    "patient_name",
    "action_label",
    "record",
    "changes",
]
CSV_BATCH = 2000


def _filtered(request: HttpRequest) -> tuple[AuditFilterForm, Any]:
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        entries = audit.report_entries(
            patient_id=data["patient"],
            username=data["user"],
            action=data["action"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )
    elif form.is_bound:
        entries = AuditEntry.objects.none()
    else:
        entries = audit.report_entries()
    return form, entries


@role_required(Role.MANAGER)
@require_GET
def audit_report(request: HttpRequest) -> HttpResponse:
    form, entries = _filtered(request)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    rows = audit_display.audit_rows(page.object_list)
    return render(
        request,
        "clinic/audit_report.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )


@role_required(Role.MANAGER)
@require_GET
def audit_export_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    _form, entries = _filtered(request)
    audit.record(
        action=AuditAction.EXPORT,
        object_type="clinic.auditentry",
        detail=f"Audit report CSV: {request.GET.urlencode()}"[:300],
    )
    zone = clock.clinic_tz()

    def rows() -> Iterator[list[object]]:
        for row in _readable(entries.iterator(chunk_size=CSV_BATCH)):
            entry = row.entry
            yield [
                entry.seq,
                entry.at.astimezone(zone).isoformat(),
                entry.actor_id or "",
                entry.actor_username,
                entry.ip_address,
                entry.user_agent,
                entry.action,
                entry.object_type,
                entry.object_id,
                entry.patient_id or "",
                entry.before,
                entry.after,
                entry.detail,
                "yes" if entry.redacted_at else "",
                entry.hash,
                row.patient_name,
                entry.get_action_display(),
                row.record,
                row.changes_text(),
            ]

    return csv_safe.csv_download(filename="audit-report.csv", header=CSV_COLUMNS, rows=rows())


def _readable(entries: Iterator[AuditEntry]) -> Iterator[audit_display.AuditRow]:
    """Rows in batches, so names are read once per batch, not once per entry."""
    while batch := list(itertools.islice(entries, CSV_BATCH)):
        yield from audit_display.audit_rows(batch)


@role_required(*PRIVACY_ROLES)
@require_GET
def patient_privacy(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The readable export: everything held about the patient, on one page."""
    patient = get_object_or_404(Patient, pk=patient_id)
    data = privacy.patient_export(patient=patient)
    sections = [
        (provider.title, json.dumps(data.get(provider.name), indent=2, ensure_ascii=False))
        for provider in privacy.providers()
    ]
    return render(
        request,
        "clinic/audit_patient_privacy.html",
        {
            "patient": patient,
            "data": data,
            "details": [
                (name.replace("_", " ").capitalize(), value)
                for name, value in data["patient"].items()
            ],
            "sections": sections,
            "retention_years": settings.CLINICAL_RETENTION_YEARS,
        },
    )


@role_required(*PRIVACY_ROLES)
@require_GET
def patient_export_json(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    data = privacy.patient_export(patient=patient)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="patient-{patient.pk}.json"'
    return response


@role_required(*PRIVACY_ROLES)
@require_http_methods(["GET", "POST"])
def patient_erase(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm", "").strip() != str(patient.pk):
            error = f"Type the patient number {patient.pk} to confirm the erasure."
        else:
            try:
                privacy.patient_erase(patient_id=patient.pk)
            except privacy.PrivacyError as refusal:
                error = str(refusal)
            else:
                messages.success(
                    request,
                    f"Patient #{patient.pk} was erased. Clinical records are kept without "
                    f"their identity for {settings.CLINICAL_RETENTION_YEARS} years.",
                )
                return redirect("clinic:patient_privacy", patient_id=patient.pk)
    return render(
        request,
        "clinic/audit_patient_erase.html",
        {
            "patient": patient,
            "error": error,
            "retention_years": settings.CLINICAL_RETENTION_YEARS,
        },
        status=400 if error else 200,
    )
