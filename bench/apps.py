from __future__ import annotations

from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Installed by ``bench.settings`` only: its management commands are the benchmark's."""

    name = "bench"
    default_auto_field = "django.db.models.BigAutoField"
