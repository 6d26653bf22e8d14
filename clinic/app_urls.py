"""The clinic app's own pages (patients, staff, outbox)."""

from __future__ import annotations

from django.urls import path

from clinic import views, views_audit, views_outbox

app_name = "clinic"
urlpatterns = [
    path("staff/", views.staff_list, name="staff_list"),
    path("audit/", views_audit.audit_report, name="audit_report"),
    path("audit/export.csv", views_audit.audit_export_csv, name="audit_export_csv"),
    path(
        "patients/<int:patient_id>/privacy/",
        views_audit.patient_privacy,
        name="patient_privacy",
    ),
    path(
        "patients/<int:patient_id>/privacy/export.json",
        views_audit.patient_export_json,
        name="patient_export_json",
    ),
    path(
        "patients/<int:patient_id>/privacy/erase/",
        views_audit.patient_erase,
        name="patient_erase",
    ),
    path("outbox/", views_outbox.outbox_list, name="outbox_list"),
    path("outbox/<int:pk>/", views_outbox.outbox_detail, name="outbox_detail"),
    path("outbox/resend-failed/", views_outbox.outbox_resend_failed, name="outbox_resend_failed"),
    path("outbox/<int:pk>/resend/", views_outbox.outbox_resend, name="outbox_resend"),
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/new/", views.patient_create, name="patient_create"),
    path("patients/<int:pk>/", views.patient_detail, name="patient_detail"),
    path("patients/<int:pk>/edit/", views.patient_update, name="patient_update"),
    path("patients/<int:pk>/archive/", views.patient_archive, name="patient_archive"),
    path("patients/<int:pk>/unarchive/", views.patient_unarchive, name="patient_unarchive"),
]
