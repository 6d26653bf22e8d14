"""Skin assessment pages (namespace ``treatments``)."""

from __future__ import annotations

from django.urls import URLPattern, path

from treatments.views import assessments as views

urlpatterns: list[URLPattern] = [
    path(
        "patients/<int:patient_pk>/assessments/new/",
        views.assessment_create,
        name="assessment_create",
    ),
    path("assessments/<int:pk>/", views.assessment_detail, name="assessment_detail"),
    path("assessments/<int:pk>/edit/", views.assessment_update, name="assessment_update"),
    path("assessments/<int:pk>/amend/", views.assessment_amend, name="assessment_amend"),
    path("assessments/<int:pk>/sign/", views.assessment_sign, name="assessment_sign"),
]
