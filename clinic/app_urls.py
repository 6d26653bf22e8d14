"""The clinic app's own pages (patients, staff, outbox)."""

from __future__ import annotations

from django.urls import path

from clinic import views

app_name = "clinic"
urlpatterns = [
    path("staff/", views.staff_list, name="staff_list"),
]
