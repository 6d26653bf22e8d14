from __future__ import annotations

from django.contrib import admin

from treatments.models import TreatmentType


@admin.register(TreatmentType)
class TreatmentTypeAdmin(admin.ModelAdmin):
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
