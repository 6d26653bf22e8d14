from __future__ import annotations

from django.contrib import admin

from bookings.models import TimeOff, WorkingHours


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = [
        "practitioner",
        "weekday",
        "starts_at",
        "ends_at",
        "break_starts_at",
        "break_ends_at",
    ]
    list_filter = ["practitioner", "weekday"]


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["practitioner", "starts_at", "ends_at", "reason"]
