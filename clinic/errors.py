"""The one root of the clinic's domain errors: a rule said no, in words for people.

Every app's refusals (a booking that clashes, a session too soon, a patient record that cannot
hold what was typed, a message that cannot be sent again) subclass :class:`DomainError`, so a
page turns any of them into a message the user can read and the API turns any of them into
its HTTP status and documented body with one handler. Pure Python: no Django, no database, so
rule modules may raise these without importing the framework.

A subclass sets ``code`` (stable, machine-readable: clients and logs branch on it, never on the
message) and ``http_status`` as class attributes, and lists in ``data_fields`` the attributes
that travel with the error to API clients (``earliest`` for a spacing refusal, ``errors`` by
field for bad input).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

# HTTP statuses the API documents for refusals, named for the reason a subclass picks one.
BAD_INPUT = 400
FORBIDDEN = 403
NOT_FOUND = 404
CONFLICT = 409


class DomainError(Exception):
    """A rule said no. ``message`` is written for the person at the desk (or the patient).

    ``code`` names the refusal for machines, ``http_status`` is what the API answers with and
    ``data`` the extra fields of the API body (the attributes named in ``data_fields`` that are
    set). The defaults are a conflict with the clinic's rules or state (409), which is what the
    API has always answered for a refusal.
    """

    code: ClassVar[str] = "refused"
    http_status: ClassVar[int] = CONFLICT
    data_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def data(self) -> Mapping[str, Any]:
        """The ``data_fields`` that carry a value; absent ones are left out, not sent as null."""
        values = {name: getattr(self, name, None) for name in self.data_fields}
        return {name: value for name, value in values.items() if value is not None}


class NotAllowed(DomainError):
    """The user's role does not allow this action (the service checks, not only the page)."""

    code = "not_allowed"
    http_status = FORBIDDEN
