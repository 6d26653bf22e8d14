"""Shared reads for treatment series, sessions and aftercare notes.

Pages, the booking screens and the reminder sweeps use these. Each list is a fixed number of
queries (``select_related`` / ``prefetch_related`` applied here); the date arithmetic is done by
the pure rules in :mod:`treatments.rules`, in the clinic's local calendar days.

Contract for the bookings app:

- :func:`series_next_window` -> :class:`NextSession` (which session comes next and its window).
- :func:`series_progress` -> :class:`SeriesProgress` (k of n, next window, proposed dates).
- ``TreatmentSeries.last_session_on`` / ``completed_sessions`` are kept by the services when a
  session is signed; ``treatment_type.spacing_policy`` gives the :class:`SpacingPolicy`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse

from clinic import clock, timeline
from clinic.formats import plain_date
from clinic.models import Patient, Room
from clinic.roles import can_see_clinical
from treatments import rules
from treatments.choices import Redness, SeriesStatus, TreatedArea
from treatments.models import (
    AftercareNote,
    AftercareStatus,
    Amendment,
    TreatmentSeries,
    TreatmentSession,
    TreatmentType,
)
from treatments.parameters import ParameterSpec, SchemaError
from treatments.selectors import latest_screening

MAINTENANCE_DATES_SHOWN = 3
OPEN_SERIES_STATUSES = (SeriesStatus.PLANNED, SeriesStatus.ACTIVE)


# --------------------------------------------------------------------------------------------
# Screening
# --------------------------------------------------------------------------------------------


def current_screening(patient: Patient, *, today: date | None = None) -> rules.Screening | None:
    """The screening of the patient's latest assessment, as the patient's badge shows it
    (``None`` without an assessment). One query."""
    return latest_screening(patient, today=today or clock.today()).screening


# --------------------------------------------------------------------------------------------
# What comes next in a series
# --------------------------------------------------------------------------------------------


class NextKind:
    FIRST = "first"
    SERIES = "series"
    MAINTENANCE = "maintenance"


# Where today sits relative to the next session's window: the one vocabulary in the rules.
NextStatus = rules.WindowStatus


@dataclass(frozen=True)
class NextSession:
    """The next session of a series and when it may be, in clinic-local dates.

    ``kind`` is ``first`` (nothing done yet: the window opens on the planned start), ``series``
    (``earliest``-``latest`` is the spacing window after the last session) or ``maintenance``
    (after the planned sessions: ``ideal`` is the maintenance interval, no ``latest``). The
    first and series windows come from :func:`treatments.rules.series_window`, the same
    function as the due list's, so both say the same status.
    """

    number: int
    kind: str
    earliest: date
    ideal: date
    latest: date | None
    status: str

    @property
    def status_label(self) -> str:
        return rules.WINDOW_STATUS_LABELS[self.status]

    @property
    def overdue(self) -> bool:
        return self.status == NextStatus.OVERDUE


def series_next_window(series: TreatmentSeries, *, today: date | None = None) -> NextSession | None:
    """The next session of ``series`` and its window; ``None`` once the series is stopped.

    Reads only the series row and its treatment type (no query if the type is loaded).
    """
    if series.status == SeriesStatus.STOPPED:
        return None
    today = today or clock.today()
    policy = series.treatment_type.spacing_policy
    number = series.completed_sessions + 1
    last = series.last_session_on
    if last is not None and series.status in (SeriesStatus.COMPLETED, SeriesStatus.MAINTENANCE):
        return NextSession(
            number=number,
            kind=NextKind.MAINTENANCE,
            earliest=rules.series_window(last_session_on=last, policy=policy).earliest,
            ideal=rules.maintenance_due_on(last_session_on=last, policy=policy),
            latest=None,
            status=rules.maintenance_status(last_session_on=last, today=today, policy=policy),
        )
    window = rules.series_window(last_session_on=last, start_on=series.start_on, policy=policy)
    return NextSession(
        number=number,
        kind=NextKind.FIRST if last is None else NextKind.SERIES,
        earliest=window.earliest,
        ideal=window.ideal,
        latest=window.latest,
        status=str(window.status_on(today)),
    )


@dataclass(frozen=True)
class SeriesProgress:
    """Everything the series page and booking screens show about where a series stands."""

    completed: int
    planned: int
    next_session: NextSession | None
    proposed_dates: list[date] = field(default_factory=list)
    maintenance_dates: list[date] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.completed / self.planned)) if self.planned else 0

    @property
    def remaining(self) -> int:
        return max(0, self.planned - self.completed)


def series_progress(series: TreatmentSeries, *, today: date | None = None) -> SeriesProgress:
    """Progress k of n, the next window, proposed dates for the rest and the upkeep schedule.

    Proposed dates never lie in the past: a late patient is offered today onwards.
    """
    today = today or clock.today()
    policy = series.treatment_type.spacing_policy
    next_session = series_next_window(series, today=today)
    proposed: list[date] = []
    maintenance: list[date] = []
    if series.status in OPEN_SERIES_STATUSES:
        proposed = rules.propose_remaining_dates(
            last_session_on=series.last_session_on,
            start_on=max(series.start_on, today),
            remaining=max(0, series.planned_sessions - series.completed_sessions),
            policy=policy,
        )
    elif (
        series.status in (SeriesStatus.COMPLETED, SeriesStatus.MAINTENANCE)
        and series.last_session_on is not None
    ):
        maintenance = rules.maintenance_schedule(
            completed_on=series.last_session_on, policy=policy, count=MAINTENANCE_DATES_SHOWN
        )
    return SeriesProgress(
        completed=series.completed_sessions,
        planned=series.planned_sessions,
        next_session=next_session,
        proposed_dates=proposed,
        maintenance_dates=maintenance,
    )


# --------------------------------------------------------------------------------------------
# Lists and pages
# --------------------------------------------------------------------------------------------


def series_list(*, status: str | None = None) -> QuerySet[TreatmentSeries]:
    """Series with their patient and treatment type (one query per page)."""
    queryset = TreatmentSeries.objects.select_related("patient", "treatment_type", "planned_by")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("patient__family_name", "patient__given_name", "-start_on", "-id")


def patient_series(patient: Patient) -> list[TreatmentSeries]:
    """A patient's series, newest first, with their treatment types (one query)."""
    return list(
        TreatmentSeries.objects.filter(patient=patient)
        .select_related("treatment_type", "planned_by")
        .order_by("-start_on", "-id")
    )


def series_page(series_id: int) -> TreatmentSeries:
    """One series with everything its page shows about the plan (one query)."""
    return TreatmentSeries.objects.select_related(
        "patient", "treatment_type", "planned_by", "assessment", "created_by", "stopped_by"
    ).get(pk=series_id)


def series_sessions(series: TreatmentSeries) -> list[TreatmentSession]:
    """The sessions of a series in order, with who did and signed them (one query)."""
    return list(
        TreatmentSession.objects.filter(series=series)
        .select_related("practitioner", "signed_by", "logged_by")
        .order_by("number")
    )


def session_page(session_id: int) -> TreatmentSession:
    """One session with its series, people, aftercare note and amendment trail (two queries)."""
    return (
        TreatmentSession.objects.select_related(
            "series__patient",
            "series__treatment_type",
            "practitioner",
            "signed_by",
            "logged_by",
            "aftercare_note",
        )
        .prefetch_related(
            Prefetch(
                "amendments",
                queryset=Amendment.objects.select_related("amended_by").order_by(
                    "amended_at", "id"
                ),
            )
        )
        .get(pk=session_id)
    )


def draft_session(series: TreatmentSeries) -> TreatmentSession | None:
    """The session logged but not yet signed, if any (at most one per series)."""
    return TreatmentSession.objects.filter(series=series, signed_at__isnull=True).first()


def aftercare_note_page(note_id: int) -> AftercareNote:
    return AftercareNote.objects.select_related(
        "session__series__patient",
        "session__series__treatment_type",
        "session__practitioner",
        "session__signed_by",
    ).get(pk=note_id)


def aftercare_notes_to_send(*, limit: int = 100) -> list[int]:
    """Ids of aftercare notes waiting to be sent, oldest first (for the sender's sweep).

    The sender claims each with ``treatments.services.aftercare.aftercare_claim`` before
    sending, so two sweeps never send the same note.
    """
    return list(
        AftercareNote.objects.filter(status=AftercareStatus.PENDING)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


# --------------------------------------------------------------------------------------------
# Sessions side by side
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendRow:
    """One line of the side-by-side table: a label and one cell per session."""

    label: str
    cells: list[str]
    kind: str = "value"  # "value", "parameter", "response"


def _parameter_specs(series: TreatmentSeries) -> list[ParameterSpec]:
    try:
        return series.treatment_type.parameter_specs
    except SchemaError:
        return []


def _format_value(value: Any, unit: str = "") -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value} {unit}".strip()


def session_trend(series: TreatmentSeries, sessions: Sequence[TreatmentSession]) -> list[TrendRow]:
    """The sessions side by side: dates, areas, every parameter and the skin's response.

    Parameters come in the treatment type's order; values logged under a name the catalogue
    no longer has still show, under their stored name, so nothing recorded disappears.
    """
    specs = _parameter_specs(series)
    known = {spec.name for spec in specs}
    extra = sorted({name for s in sessions for name in s.parameters} - known)
    area_labels = dict(TreatedArea.choices)
    redness_labels = dict(Redness.choices)
    rows = [
        TrendRow(
            "Date",
            [plain_date(s.performed_at) for s in sessions],
        ),
        TrendRow("Practitioner", [str(s.practitioner) for s in sessions]),
        TrendRow(
            "Areas",
            [", ".join(str(area_labels.get(a, a)) for a in s.areas) or "—" for s in sessions],
        ),
    ]
    rows += [
        TrendRow(
            spec.label,
            [_format_value(s.parameters.get(spec.name), spec.unit) for s in sessions],
            "parameter",
        )
        for spec in specs
    ]
    rows += [
        TrendRow(name, [_format_value(s.parameters.get(name)) for s in sessions], "parameter")
        for name in extra
    ]
    rows += [
        TrendRow("Duration", [f"{s.duration_minutes} min" for s in sessions]),
        TrendRow(
            "Redness",
            [str(redness_labels.get(s.redness, s.redness)) for s in sessions],
            "response",
        ),
        TrendRow("Swelling", ["Yes" if s.swelling else "No" for s in sessions], "response"),
        TrendRow("Other response", [s.other_response or "—" for s in sessions], "response"),
        TrendRow(
            "Comfort (1-5)",
            [str(s.comfort) if s.comfort else "—" for s in sessions],
            "response",
        ),
    ]
    return rows


# --------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------


def treatment_type_list() -> QuerySet[TreatmentType]:
    """Treatment types, offered ones first, with their rooms (two queries per page)."""
    return TreatmentType.objects.prefetch_related(
        Prefetch("rooms", queryset=Room.objects.order_by("name"))
    ).order_by("-is_active", "name")


def treatment_type_page(treatment_type_id: int) -> TreatmentType:
    return treatment_type_list().get(pk=treatment_type_id)


# --------------------------------------------------------------------------------------------
# The patient page (clinic.timeline providers, registered in treatments.apps)
# --------------------------------------------------------------------------------------------

SERIES_TONES: dict[str, str] = {
    SeriesStatus.PLANNED: "secondary",
    SeriesStatus.ACTIVE: "primary",
    SeriesStatus.COMPLETED: "success",
    SeriesStatus.MAINTENANCE: "info",
    SeriesStatus.STOPPED: "dark",
}


def _series_progress_text(series: TreatmentSeries, today: date) -> str:
    progress = series_progress(series, today=today)
    text = f"{series.get_status_display()}: {progress.completed} of {progress.planned} sessions"
    next_session = progress.next_session
    if series.status == SeriesStatus.STOPPED:
        return f"{text}. Stopped"  # the reason is clinical: see series_timeline_entries
    if next_session is None:
        return text
    if next_session.kind == NextKind.FIRST:
        return f"{text}; starts {plain_date(next_session.earliest)}"
    if next_session.kind == NextKind.MAINTENANCE:
        return (
            f"{text}; maintenance from {plain_date(next_session.earliest)}, "
            f"ideally around {plain_date(next_session.ideal)}"
        )
    latest = next_session.latest or next_session.ideal
    return (
        f"{text}; session {next_session.number} from "
        f"{plain_date(next_session.earliest)} to "
        f"{plain_date(latest)} ({next_session.status_label.lower()})"
    )


def series_timeline_entries(patient: Patient) -> list[timeline.TimelineEntry]:
    """Each series (on its start date) with its progress and next window, for every role, and
    each session (when it was performed) whose clinical summary only clinical staff see.
    Two queries however many series and sessions."""

    from clinic import timeline

    today = clock.today()
    entries = []
    for series in patient_series(patient):
        entries.append(
            timeline.TimelineEntry(
                at=timeline.at_local_date(series.start_on),
                date_only=True,
                kind="series",
                title=f"{series.treatment_type.name} series",
                detail=_series_progress_text(series, today),
                clinical_detail=f": {series.stop_reason}"
                if series.status == SeriesStatus.STOPPED and series.stop_reason
                else "",
                url=reverse("treatments:series_detail", args=[series.pk]),
                clinical=False,
                tone=SERIES_TONES.get(series.status, "secondary"),
            )
        )
    sessions = (
        TreatmentSession.objects.filter(series__patient=patient)
        .select_related("series__treatment_type", "practitioner")
        .order_by("performed_at")
    )
    redness_labels = dict(Redness.choices)
    for session in sessions:
        series = session.series
        of = (
            "maintenance"
            if session.is_maintenance
            else f"{session.number} of {series.planned_sessions}"
        )
        state = "" if session.signed_at else " (not signed)"
        entries.append(
            timeline.TimelineEntry(
                at=session.performed_at,
                kind="session",
                title=f"{series.treatment_type.name} session {of}{state}",
                detail=(
                    f"By {session.practitioner}. Redness "
                    f"{str(redness_labels.get(session.redness, session.redness)).lower()}"
                    f"{', swelling' if session.swelling else ''}."
                    f"{' Overdue.' if session.overdue else ''}"
                ),
                url=reverse("treatments:session_detail", args=[session.pk]),
                clinical=True,
                tone="success" if session.signed_at else "warning",
            )
        )
    return entries


def series_actions(patient: Patient, user: Any) -> list[timeline.PatientAction]:
    """ "Plan a treatment series" on the patient page, for practitioners and managers."""

    from clinic import timeline

    if not can_see_clinical(user) or not patient.is_active:
        return []
    return [
        timeline.PatientAction(
            label="Plan a treatment series",
            url=reverse("treatments:series_plan", args=[patient.pk]),
            order=20,
        )
    ]
