from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse

from bookings.models import (
    ApiToken,
    Appointment,
    AppointmentChange,
    BookingSettings,
    TimeOff,
    WorkingHours,
)
from bookings.services.tokens import api_token_revoke
from clinic.admin import AppPageAdmin


@admin.register(WorkingHours)
class WorkingHoursAdmin(AppPageAdmin):
    app_page = "bookings:availability"
    list_display = [
        "practitioner",
        "weekday",
        "starts_at",
        "ends_at",
        "break_starts_at",
        "break_ends_at",
    ]
    list_filter = ["practitioner", "weekday"]

    def app_page_url(self, obj: WorkingHours | None = None) -> str:
        if obj is None:
            return reverse(self.app_page)
        return reverse("bookings:working_hours", args=[obj.practitioner_id])


@admin.register(TimeOff)
class TimeOffAdmin(AppPageAdmin):
    app_page = "bookings:time_off"
    list_display = ["practitioner", "starts_at", "ends_at", "reason"]


class AppointmentChangeInline(admin.TabularInline):
    model = AppointmentChange
    extra = 0
    can_delete = False
    fields = ["changed_at", "kind", "changed_by", "from_status", "to_status", "from_starts_at"]
    # Types: the fields are flat names, no fieldsets.
    readonly_fields = fields  # type: ignore[assignment]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    """Read-only: appointments change only through the calendar and the API, whose services
    check overlaps, hours and series spacing and keep the history."""

    list_display = ["starts_at", "patient", "practitioner", "room", "treatment_type", "status"]
    list_filter = ["status", "practitioner", "room"]
    date_hierarchy = "starts_at"
    search_fields = ["patient__search_text"]
    list_select_related = ["patient", "practitioner", "room", "treatment_type"]
    inlines = [AppointmentChangeInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BookingSettings)
class BookingSettingsAdmin(AppPageAdmin):
    app_page = "bookings:booking_settings"
    list_display = ["__str__", "minimum_notice_minutes", "horizon_days", "updated_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(AppPageAdmin):
    """Tokens are issued on the API tokens page or with ``manage.py issue_api_token`` (the
    clear token is shown once there); here they can only be looked at and revoked."""

    app_page = "bookings:api_tokens"

    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    readonly_fields = ["user", "name", "prefix", "token_hash", "created_at", "last_used_at"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        for token in queryset:
            api_token_revoke(token=token)
