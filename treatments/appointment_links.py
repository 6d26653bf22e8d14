"""The appointment a session was logged from: bookings owns that link, treatments asks for it.

``treatments`` imports nothing from ``bookings``, and an ``Appointment`` row is written only by
bookings' services. So when a session is logged from an appointment (or a draft is discarded),
the session services call the handlers bookings registers from its ``AppConfig.ready``::

    from treatments import appointment_links

    appointment_links.register(link=appointment_link_session, unlink=appointment_unlink_session)

Both run inside the session service's transaction, so the session and its link commit or roll
back together; ``link`` raises a :class:`~clinic.errors.DomainError` when the appointment cannot
take the session (another patient, another series, already linked).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from treatments.models import TreatmentSession


@dataclass(frozen=True)
class _Handlers:
    link: Callable[..., None]
    unlink: Callable[..., None]


_handlers: _Handlers | None = None


def register(*, link: Callable[..., None], unlink: Callable[..., None]) -> None:
    """Install bookings' handlers: ``link(session=..., appointment=...)`` and
    ``unlink(session=...)``. Registering again replaces them (tests, autoreload)."""
    global _handlers  # one owner of the link: the last registration wins
    _handlers = _Handlers(link=link, unlink=unlink)


def _registered() -> _Handlers:
    if _handlers is None:
        raise ImproperlyConfigured(
            "No appointment link handlers: the bookings app registers them in its ready()."
        )
    return _handlers


def link(*, session: TreatmentSession, appointment: Any) -> None:
    """Tie ``appointment`` to the session it produced (through bookings)."""
    _registered().link(session=session, appointment=appointment)


def unlink(*, session: TreatmentSession) -> None:
    """Free the appointment of a session that is going away, if any (through bookings)."""
    _registered().unlink(session=session)
