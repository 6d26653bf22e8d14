"""Catalogue, series, session and aftercare pages (the series issue)."""

from __future__ import annotations

from django.urls import URLPattern, path

from treatments.views import catalogue, series, sessions

urlpatterns: list[URLPattern] = [
    # The treatment catalogue
    path("treatments/", catalogue.treatmenttype_list, name="treatmenttype_list"),
    path("treatments/new/", catalogue.treatmenttype_create, name="treatmenttype_create"),
    path(
        "treatments/<int:treatment_type_id>/",
        catalogue.treatmenttype_detail,
        name="treatmenttype_detail",
    ),
    path(
        "treatments/<int:treatment_type_id>/edit/",
        catalogue.treatmenttype_update,
        name="treatmenttype_update",
    ),
    # Series
    path("series/", series.series_index, name="series_list"),
    path("patients/<int:patient_id>/series/new/", series.series_plan_view, name="series_plan"),
    path("series/<int:series_id>/", series.series_detail, name="series_detail"),
    path("series/<int:series_id>/edit/", series.series_update, name="series_update"),
    path("series/<int:series_id>/stop/", series.series_stop_view, name="series_stop"),
    path(
        "series/<int:series_id>/maintenance/",
        series.series_maintenance,
        name="series_maintenance",
    ),
    # Sessions and aftercare
    path("series/<int:series_id>/sessions/new/", sessions.session_log_view, name="session_log"),
    path("sessions/<int:session_id>/", sessions.session_detail, name="session_detail"),
    path("sessions/<int:session_id>/edit/", sessions.session_edit, name="session_edit"),
    path("sessions/<int:session_id>/sign/", sessions.session_sign_view, name="session_sign"),
    path(
        "sessions/<int:session_id>/discard/",
        sessions.session_discard_view,
        name="session_discard",
    ),
    path("sessions/<int:session_id>/amend/", sessions.session_amend_view, name="session_amend"),
    path(
        "sessions/<int:session_id>/aftercare/",
        sessions.aftercare_detail,
        name="aftercare_detail",
    ),
]
