from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_signed_record_guards(sender: Any, **kwargs: Any) -> None:
    from django.db import connections

    from treatments.guards import install_guards

    install_guards(connections[kwargs.get("using", "default")])


class TreatmentsConfig(AppConfig):
    name = "treatments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # SQLite drops a table's triggers when a migration rebuilds it: reinstall after migrate.
        post_migrate.connect(
            _install_signed_record_guards, sender=self, dispatch_uid="treatments-record-guards"
        )
        from clinic import timeline
        from treatments import selectors

        timeline.register_entries("treatments.assessments", selectors.assessment_timeline_entries)
        timeline.register_actions("treatments.assessments", selectors.assessment_actions)

        from treatments import selectors_series

        timeline.register_entries("treatments.series", selectors_series.series_timeline_entries)
        timeline.register_actions("treatments.series", selectors_series.series_actions)

        from clinic import privacy
        from treatments.privacy import PROVIDER

        privacy.register_provider(PROVIDER)
