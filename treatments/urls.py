"""Treatments pages: assessments (patients issue) and catalogue/series/sessions (series issue)."""

from __future__ import annotations

from treatments.urls_assessments import urlpatterns as assessment_patterns
from treatments.urls_series import urlpatterns as series_patterns

app_name = "treatments"
urlpatterns = [*assessment_patterns, *series_patterns]
