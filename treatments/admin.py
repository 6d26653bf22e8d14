"""Admin for managers: everything here is read-only.

The catalogue is edited on its app pages (``treatment_type_save`` checks and audits).

Series, sessions, aftercare notes and amendments change only through the app's pages (the
services apply the spacing, signing and amendment rules). A signed session or assessment is
never editable in the admin, and the database refuses such an update anyway
(treatments.guards).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse

from clinic.admin import AppPageAdmin
from treatments.models import (
    AftercareNote,
    Amendment,
    SkinAssessment,
    TreatmentSeries,
    TreatmentSession,
    TreatmentType,
)


@admin.register(TreatmentType)
class TreatmentTypeAdmin(AppPageAdmin):
    """View-only: the catalogue pages save through ``treatment_type_save``, which checks
    durations, intervals and the parameter schema and writes the audit trail."""

    list_display = [
        "name",
        "modality",
        "default_duration_minutes",
        "min_interval_days",
        "max_interval_days",
        "is_active",
    ]
    list_filter = ["modality", "is_active"]

    def app_page_url(self, obj: TreatmentType | None = None) -> str:
        if obj is None:
            return reverse("treatments:treatmenttype_list")
        return reverse("treatments:treatmenttype_update", args=[obj.pk])


class ReadOnlyAdmin(admin.ModelAdmin):
    """View-only: clinical records are written by the app's services, never here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TreatmentSeries)
class TreatmentSeriesAdmin(ReadOnlyAdmin):
    list_display = [
        "patient",
        "treatment_type",
        "status",
        "completed_sessions",
        "planned_sessions",
        "last_session_on",
    ]
    list_filter = ["status", "treatment_type"]
    list_select_related = ["patient", "treatment_type"]
    search_fields = ["patient__search_text"]


@admin.register(TreatmentSession)
class TreatmentSessionAdmin(ReadOnlyAdmin):
    list_display = ["series", "number", "practitioner", "performed_at", "signed_at", "overdue"]
    list_filter = ["overdue", "is_maintenance"]
    list_select_related = ["series__patient", "series__treatment_type", "practitioner"]


@admin.register(AftercareNote)
class AftercareNoteAdmin(ReadOnlyAdmin):
    list_display = ["session", "status", "created_at", "sent_at"]
    list_filter = ["status"]
    list_select_related = ["session__series__patient", "session__series__treatment_type"]


@admin.register(Amendment)
class AmendmentAdmin(ReadOnlyAdmin):
    list_display = ["amended_at", "amended_by", "session", "assessment", "reason"]
    list_select_related = ["amended_by", "session", "assessment"]


@admin.register(SkinAssessment)
class SkinAssessmentAdmin(ReadOnlyAdmin):
    list_display = ["patient", "assessed_on", "outcome", "signed_at"]
    list_filter = ["outcome"]
    list_select_related = ["patient"]
