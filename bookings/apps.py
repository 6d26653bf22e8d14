from __future__ import annotations

from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bookings import selectors
        from clinic import timeline

        # The patient page shows appointments and offers "Book an appointment".
        timeline.register_entries("bookings.appointments", selectors.appointment_timeline_entries)
        timeline.register_actions("bookings.appointments", selectors.appointment_actions)

        from bookings.privacy import PROVIDER
        from clinic import privacy

        privacy.register_provider(PROVIDER)

        from bookings import calendar_cache

        # A change to anything a calendar shows retires the calendars drawn before it.
        calendar_cache.connect()

        from bookings.services.session_links import (
            appointment_link_session,
            appointment_unlink_session,
        )
        from treatments import appointment_links

        # Sessions logged from an appointment: bookings writes the link, treatments asks.
        appointment_links.register(link=appointment_link_session, unlink=appointment_unlink_session)

        from bookings.models import ApiToken
        from clinic import audit_accounts

        # Issuing and revoking API tokens is in the audit trail; last_used_at is not.
        audit_accounts.track(
            ApiToken, fields=("user", "name", "prefix", "revoked_at"), secret_fields=("token_hash",)
        )
