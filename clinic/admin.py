from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import ClinicClosure, OpeningHours, OutboundMessage, Patient, Practitioner, Room
from clinic.roles import Role, has_role
from clinic.services import InvalidPractitionerDetails, practitioner_check, practitioner_save


def _managers_only(request: HttpRequest) -> bool:
    """The admin is for configuration by managers, whatever ``is_staff`` says."""
    return request.user.is_active and (
        request.user.is_superuser or has_role(request.user, Role.MANAGER)
    )


# Types: the admin site's permission check is replaced on purpose.
admin.site.has_permission = _managers_only  # type: ignore[method-assign]
admin.site.site_header = "Clinic configuration"
admin.site.site_title = "Clinic configuration"


class AppPageAdmin(admin.ModelAdmin):
    """View-only, with a link to the app page that edits the rows.

    The app's pages write through the services, which check the clinic's rules and write the
    audit trail; an admin form would bypass both. ``app_page`` names the page's URL.
    """

    app_page: str = ""
    change_form_template = "admin/app_page_change_form.html"
    change_list_template = "admin/app_page_change_list.html"

    def app_page_url(self, obj: Any = None) -> str:
        return reverse(self.app_page)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {"app_page_url": self.app_page_url(), **(extra_context or {})}
        return super().changelist_view(request, extra_context=context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        context = {
            "app_page_url": self.app_page_url(obj),
            "app_page_what": self.model._meta.verbose_name_plural,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)


class PractitionerAdminForm(forms.ModelForm):
    """Shape only; the rules are ``clinic.services.practitioner_check``, called here so a
    refusal shows on the form."""

    class Meta:
        model = Practitioner
        fields = ["display_name", "title", "colour", "user", "is_active"]

    def _post_clean(self) -> None:
        # Types: a private Django method the stubs leave out.
        super()._post_clean()  # type: ignore[misc]
        try:
            practitioner_check(practitioner=self.instance)
        except InvalidPractitionerDetails as error:
            for field, message in error.errors.items():
                self.add_error(field if field in self.fields else None, message)


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    """No staff page exists yet: the admin edits practitioners, through the service."""

    form = PractitionerAdminForm
    list_display = ["display_name", "title", "user", "is_active"]
    list_filter = ["is_active"]

    def save_model(
        self, request: HttpRequest, obj: Practitioner, form: forms.ModelForm, change: bool
    ) -> None:
        practitioner_save(practitioner=obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Appointments refer to practitioners: set one inactive instead.
        return False


@admin.register(Room)
class RoomAdmin(AppPageAdmin):
    app_page = "bookings:rooms"
    list_display = ["name", "is_active"]

    def app_page_url(self, obj: Room | None = None) -> str:
        if obj is None:
            return reverse("bookings:rooms")
        return reverse("bookings:room_edit", args=[obj.pk])


@admin.register(OpeningHours)
class OpeningHoursAdmin(AppPageAdmin):
    app_page = "bookings:opening_hours"
    list_display = ["weekday", "opens_at", "closes_at"]


@admin.register(ClinicClosure)
class ClinicClosureAdmin(AppPageAdmin):
    app_page = "bookings:closures"
    list_display = ["date", "reason"]


@admin.register(Patient)
class PatientAdmin(AppPageAdmin):
    """View-only: patients are created and edited on the patient pages, whose services
    normalise phones and emails, check duplicates and write the audit trail."""

    list_display = ["family_name", "given_name", "date_of_birth", "email", "phone", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["search_text"]

    def app_page_url(self, obj: Patient | None = None) -> str:
        if obj is None:
            return reverse("clinic:patient_list")
        return reverse("clinic:patient_detail", args=[obj.pk])


@admin.register(OutboundMessage)
class OutboundMessageAdmin(AppPageAdmin):
    """The ledger is append-only: a message is recorded once and never edited or deleted
    (a deleted row would let its idempotency key send the email again)."""

    list_display = ["kind", "recipient", "status", "due_at", "sent_at", "attempts"]
    list_filter = ["kind", "status"]

    def app_page_url(self, obj: OutboundMessage | None = None) -> str:
        if obj is None:
            return reverse("clinic:outbox_list")
        return reverse("clinic:outbox_detail", args=[obj.pk])


# -- Staff accounts ------------------------------------------------------------------------------

NOT_FOR_MANAGERS = ("is_superuser", "user_permissions")


class ClinicUserAdmin(UserAdmin):
    """Managers (staff, not superusers) look after colleagues' accounts and roles here, but
    never reach superuser status, per-user permissions, another person's password, or a
    superuser's account: with those they could sign in as a colleague or make themselves
    all-powerful. Every change is in the audit trail (``clinic.audit_accounts``)."""

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (
                name,
                {**options, "fields": [f for f in options["fields"] if f not in NOT_FOR_MANAGERS]},
            )
            for name, options in fieldsets
        ]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        # Only a superuser sets someone else's password; staff change their own.
        if not request.user.is_superuser and str(request.user.pk) != str(id):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not request.user.is_superuser:
            stored = type(obj).objects.filter(pk=obj.pk).first() if obj.pk else None
            obj.is_superuser = stored.is_superuser if stored else False
        super().save_model(request, obj, form, change)


User = get_user_model()
admin.site.unregister(User)
admin.site.register(User, ClinicUserAdmin)


class ClinicTOTPDeviceAdmin(TOTPDeviceAdmin):
    """An unknown device answers 404 (django-otp's own views let DoesNotExist through)."""

    def config_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        get_object_or_404(TOTPDevice, pk=pk)
        return super().config_view(request, pk)

    def qrcode_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        get_object_or_404(TOTPDevice, pk=pk)
        return super().qrcode_view(request, pk)


admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, ClinicTOTPDeviceAdmin)
