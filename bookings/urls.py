from __future__ import annotations

from django.urls import path  # noqa: F401 - pages are added here by the bookings issues

app_name = "bookings"
urlpatterns: list = []
