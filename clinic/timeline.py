"""The patient page's timeline and action buttons, filled in by the apps built on clinic.

``clinic`` imports neither ``treatments`` nor ``bookings``, so they plug in here from their
``AppConfig.ready``::

    from clinic import timeline

    timeline.register_entries("treatments.assessments", assessment_entries)
    timeline.register_actions("treatments.assessments", assessment_actions)

An entries provider is ``provider(patient) -> Iterable[TimelineEntry]``. It must run a fixed
number of queries however much history the patient has (the page pins its query count).
Its ``title`` is shown to every member of staff, so it must never carry clinical detail:
that goes in ``detail``, and in ``url`` when the target page is clinical, with
``clinical=True``; receptionists then see the title alone. An actions provider is
``provider(patient, user) -> Iterable[PatientAction]`` and decides itself who may see each
button (the target page checks again).

Registering under a name that is already taken replaces the earlier provider, so a module
imported twice (tests, autoreload) never doubles the entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from clinic import clock
from clinic.models import Patient
from clinic.roles import can_see_clinical


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to (or is planned for) a patient.

    ``at`` is an aware datetime; for something that only has a date, pass local midnight
    with ``date_only=True`` (see :func:`at_local_date`). ``kind`` groups entries for the
    icon and filters ("assessment", "series", "session", "appointment", "message").
    ``tone`` is a Bootstrap colour name for the marker ("success", "danger", ...).
    """

    at: dt.datetime
    kind: str
    title: str
    detail: str = ""
    url: str = ""
    clinical: bool = False
    date_only: bool = False
    tone: str = "secondary"
    # Appended to ``detail`` for practitioners and managers only (a series' stop reason).
    clinical_detail: str = ""

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError(f"TimelineEntry.at must be an aware datetime, got {self.at!r}")

    @property
    def local_at(self) -> dt.datetime:
        return clock.localtime(self.at)

    def redacted(self) -> TimelineEntry:
        """What a receptionist sees of a clinical entry: the title and when."""
        return replace(self, detail="", url="", clinical_detail="")

    def for_viewer(self, *, clinical_viewer: bool) -> TimelineEntry:
        """The entry as one viewer sees it: receptionists get no clinical detail at all."""
        if clinical_viewer:
            return replace(self, detail=f"{self.detail}{self.clinical_detail}", clinical_detail="")
        return self.redacted() if self.clinical else replace(self, clinical_detail="")


@dataclass(frozen=True)
class PatientAction:
    """A button on the patient page ("Record an assessment", "Book an appointment")."""

    label: str
    url: str
    primary: bool = False
    order: int = 100


EntriesProvider = Callable[[Patient], Iterable[TimelineEntry]]
ActionsProvider = Callable[[Patient, Any], Iterable[PatientAction]]

_entry_providers: dict[str, EntriesProvider] = {}
_action_providers: dict[str, ActionsProvider] = {}


def register_entries(name: str, provider: EntriesProvider) -> None:
    _entry_providers[name] = provider


def register_actions(name: str, provider: ActionsProvider) -> None:
    _action_providers[name] = provider


def unregister(name: str) -> None:
    """Remove both providers registered under ``name`` (tests that add their own)."""
    _entry_providers.pop(name, None)
    _action_providers.pop(name, None)


def at_local_date(day: dt.date) -> dt.datetime:
    """Local midnight of a clinic day, for entries that only have a date."""
    return clock.start_of_day(day)


def entries_for(patient: Patient, *, user: Any) -> list[TimelineEntry]:
    """Every provider's entries, newest first; clinical detail removed for receptionists.

    Entries on the same moment keep the order the providers were registered in, so a
    date-only assessment and a session logged that day do not swap places between loads.
    """
    clinical_viewer = can_see_clinical(user)
    entries = [
        entry.for_viewer(clinical_viewer=clinical_viewer)
        for provider in _entry_providers.values()
        for entry in provider(patient)
    ]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries


def actions_for(patient: Patient, *, user: Any) -> list[PatientAction]:
    actions = [
        action for provider in _action_providers.values() for action in provider(patient, user)
    ]
    actions.sort(key=lambda action: (action.order, action.label))
    return actions
