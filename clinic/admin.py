from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from clinic.models import ClinicClosure, OpeningHours, OutboundMessage, Patient, Practitioner, Room
from clinic.roles import Role, has_role


def _managers_only(request: HttpRequest) -> bool:
    """The admin is for configuration by managers, whatever ``is_staff`` says."""
    return request.user.is_active and (
        request.user.is_superuser or has_role(request.user, Role.MANAGER)
    )


admin.site.has_permission = _managers_only
admin.site.site_header = "Clinic configuration"
admin.site.site_title = "Clinic configuration"


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ["display_name", "title", "user", "is_active"]
    list_filter = ["is_active"]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active"]


@admin.register(OpeningHours)
class OpeningHoursAdmin(admin.ModelAdmin):
    list_display = ["weekday", "opens_at", "closes_at"]


@admin.register(ClinicClosure)
class ClinicClosureAdmin(admin.ModelAdmin):
    list_display = ["date", "reason"]


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    """View-only: patients are created and edited on the patient pages, whose services
    normalise phones and emails, check duplicates and write the audit trail."""

    list_display = ["family_name", "given_name", "date_of_birth", "email", "phone", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["search_text"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Patient | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Patient | None = None) -> bool:
        return False


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = ["kind", "recipient", "status", "due_at", "sent_at", "attempts"]
    list_filter = ["kind", "status"]
    readonly_fields = [field.name for field in OutboundMessage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
