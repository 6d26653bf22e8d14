from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from bookings import api as bookings_api
from clinic import views, views_twofactor
from clinic.forms import StyledPasswordChangeForm, StyledPasswordResetForm, StyledSetPasswordForm

handler403 = "clinic.views.error_403"
handler404 = "clinic.views.error_404"
handler500 = "clinic.views.error_500"

account_patterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("two-factor/", views_twofactor.otp_verify, name="otp_verify"),
    path("two-factor/setup/", views_twofactor.otp_enrol, name="otp_enrol"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(form_class=StyledPasswordChangeForm),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(form_class=StyledPasswordResetForm),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=StyledSetPasswordForm),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/", include(account_patterns)),
    path("admin/", admin.site.urls),
    path("", include("clinic.app_urls")),
    path("", include("treatments.urls")),
    path("", include("bookings.urls")),
    # The booking API (bearer tokens; OpenAPI at /api/openapi.json, docs at /api/docs).
    path("api/", include((bookings_api.urlpatterns(), "ninja"), namespace="api")),
    # Patient self-service links from emails (no login; signed tokens).
    path("p/", include("bookings.urls_public")),
]
