"""Issue a booking-API token for a staff user: ``manage.py issue_api_token USERNAME``.

The token is printed once, as the last line, and stored only as a SHA-256 hash.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bookings.rules import BookingError
from bookings.services.tokens import api_token_issue


class Command(BaseCommand):
    help = "Issue a new API token for a staff user and print it (shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The staff user the token acts as.")
        parser.add_argument("--name", default="", help="What the token is for (shown in lists).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            row, token = api_token_issue(username=options["username"], name=options["name"])
        except BookingError as error:
            raise CommandError(error.message) from error
        self.stderr.write(
            f"Token {row.prefix}… for {row.user.username} issued. Send it as "
            "'Authorization: Bearer <token>'. It is not stored and will not be shown again."
        )
        self.stdout.write(token)
