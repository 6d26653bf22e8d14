"""Admin for managers: the catalogue is editable; clinical records are read-only here.

Series, sessions, aftercare notes and amendments change only through the app's pages (the
services apply the spacing, signing and amendment rules). A signed session or assessment is
never editable in the admin, and the database refuses such an update anyway
(treatments.guards).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from treatments.models import (
    AftercareNote,
    Amendment,
    SkinAssessment,
    TreatmentSeries,
    TreatmentSession,
    TreatmentType,
)
from treatments.parameters import SchemaError, parse_schema, schema_as_json


class TreatmentTypeAdminForm(forms.ModelForm):
    class Meta:
        model = TreatmentType
        fields = [
            "name",
            "modality",
            "description",
            "default_duration_minutes",
            "extra_area_minutes",
            "buffer_minutes",
            "min_interval_days",
            "max_interval_days",
            "maintenance_interval_days",
            "sessions_mild",
            "sessions_moderate",
            "sessions_severe",
            "parameter_schema",
            "aftercare_template",
            "rooms",
            "is_active",
        ]

    def clean_parameter_schema(self) -> Any:
        try:
            return schema_as_json(parse_schema(self.cleaned_data.get("parameter_schema")))
        except SchemaError as error:
            raise forms.ValidationError(error.message) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        low, high = cleaned.get("min_interval_days"), cleaned.get("max_interval_days")
        if low is not None and high is not None and high < low:
            self.add_error(
                "max_interval_days",
                f"The maximum interval ({high} days) must not be shorter than the minimum "
                f"({low} days).",
            )
        return cleaned


@admin.register(TreatmentType)
class TreatmentTypeAdmin(admin.ModelAdmin):
    form = TreatmentTypeAdminForm
    list_display = [
        "name",
        "modality",
        "default_duration_minutes",
        "min_interval_days",
        "max_interval_days",
        "is_active",
    ]
    list_filter = ["modality", "is_active"]
    filter_horizontal = ["rooms"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Series and appointments refer to treatment types: retire one instead (Offered off).
        return False


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
