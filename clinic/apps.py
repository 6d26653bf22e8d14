from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender: Any, **kwargs: Any) -> None:
    from django.contrib.auth.models import Group
    from django.db import connections

    from clinic import audit_accounts
    from clinic.roles import sync_role_permissions

    connection = connections[kwargs.get("using", "default")]
    if Group._meta.db_table in connection.introspection.table_names():
        with audit_accounts.unrecorded():
            sync_role_permissions()


class ClinicConfig(AppConfig):
    name = "clinic"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Permissions are created app by app after ``migrate``; re-grant them to the role
        # groups after each app so those of apps listed after ``clinic`` are included.
        post_migrate.connect(_sync_roles, dispatch_uid="clinic-sync-roles")
        from clinic import selectors, timeline

        timeline.register_entries("clinic.messages", selectors.message_timeline_entries)
        from clinic import security

        security.connect_signals()
        from clinic import audit_accounts

        # Accounts, roles and 2FA devices change through Django's own admin too: audit them all.
        audit_accounts.connect()
