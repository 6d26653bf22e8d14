from __future__ import annotations

from django.urls import path  # noqa: F401 - pages are added here by the treatments issues

app_name = "treatments"
urlpatterns: list = []
