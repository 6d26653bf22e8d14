"""Session pages: log, view, edit a draft, sign, discard, amend, and the aftercare note.

All of them are clinical: practitioners and managers only (receptionists get a 403).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic import audit, clock
from clinic.formats import long_date, long_datetime
from clinic.roles import CLINICAL_ROLES, Role, has_role, role_required
from treatments import rules
from treatments.choices import Redness, SeriesStatus, Suitability, TreatedArea
from treatments.forms.sessions import (
    PARAMETER_PREFIX,
    SessionAmendForm,
    SessionForm,
    session_initial,
)
from treatments.models import TreatmentSeries, TreatmentSession
from treatments.selectors_series import (
    current_screening,
    draft_session,
    series_page,
    series_progress,
    session_page,
)
from treatments.services.sessions import (
    AMENDABLE_FIELDS,
    SessionError,
    session_amend,
    session_discard,
    session_log,
    session_sign,
    session_update_draft,
)
from treatments.views.common import own_practitioner, patient_page_url

FIELD_LABELS = {
    "practitioner": "Practitioner",
    "performed_at": "Date and time",
    "areas": "Treated areas",
    "parameters": "Settings",
    "duration_minutes": "Duration (minutes)",
    "redness": "Redness",
    "swelling": "Swelling",
    "other_response": "Other skin response",
    "comfort": "Patient comfort",
    "notes": "Clinical notes",
    "overdue": "Overdue",
    "spacing_override_reason": "Spacing override",
}


def _get_session(session_id: int) -> TreatmentSession:
    try:
        return session_page(session_id)
    except TreatmentSession.DoesNotExist:
        raise Http404("No such session.") from None


def _form_kwargs(request: HttpRequest, series: TreatmentSeries, **extra: Any) -> dict[str, Any]:
    return {
        "treatment_type": series.treatment_type,
        "can_override": has_role(request.user, Role.PRACTITIONER),
        **extra,
    }


def _apply_refusal(form: SessionForm, error: rules.DomainError) -> None:
    """Turn a service refusal into messages next to the fields it is about."""
    if isinstance(error, rules.SpacingViolation):
        form.add_error("performed_on", error.message)
    elif isinstance(error, rules.OverrideNotAllowed):
        form.add_error(
            "spacing_override_reason" if "spacing_override_reason" in form.fields else None,
            error.message,
        )
    elif isinstance(error, SessionError):
        form.add_service_errors(error.errors, error.message)
    else:
        form.add_error(None, error.message)


def _clinical_context(series: TreatmentSeries) -> dict[str, Any]:
    """What a practitioner needs in view while logging: screening advice and the window."""
    today = clock.today()
    screening = current_screening(series.patient, today=today)
    return {
        "series": series,
        "patient_url": patient_page_url(series.patient),
        "progress": series_progress(series, today=today),
        "screening": screening,
        "not_suitable": screening is not None and screening.outcome == Suitability.NOT_SUITABLE,
    }


def _spacing_messages(request: HttpRequest, logged: Any, series: TreatmentSeries) -> None:
    session = logged.session
    if logged.spacing.overdue:
        messages.warning(
            request,
            f"Session {session.number} is overdue: more than "
            f"{series.treatment_type.max_interval_days} days after the previous session.",
        )
    if logged.spacing.overridden:
        messages.warning(
            request,
            f"Session {session.number} is inside the "
            f"{series.treatment_type.min_interval_days}-day minimum; your override reason "
            "is recorded.",
        )


def _appointment_from_query(request: HttpRequest, series: TreatmentSeries) -> Any:
    """The booked appointment this session is logged from (``?appointment=<id>``, kept on
    the POST because the form posts back to the same URL), if it is this series' and has
    no session yet. Read through the series' reverse relation: treatments never imports
    bookings."""
    raw = request.GET.get("appointment", "")
    if not raw.isdigit():
        return None
    return series.appointments.filter(pk=int(raw), treatment_session__isnull=True).first()


@role_required(*CLINICAL_ROLES)
def session_log_view(request: HttpRequest, series_id: int) -> HttpResponse:
    try:
        series = series_page(series_id)
    except TreatmentSeries.DoesNotExist:
        raise Http404("No such series.") from None
    if series.status == SeriesStatus.STOPPED:
        messages.error(request, "This series is stopped: no more sessions can be logged.")
        return redirect("treatments:series_detail", series.pk)
    draft = draft_session(series)
    if draft is not None:
        messages.info(
            request, f"Session {draft.number} is not signed yet: finish it before the next one."
        )
        return redirect("treatments:session_detail", draft.pk)
    previous = series.sessions.order_by("-number").first()
    appointment = _appointment_from_query(request, series)
    if request.method == "POST":
        form = SessionForm(request.POST, **_form_kwargs(request, series))
        if form.is_valid():
            try:
                logged = session_log(
                    series=series,
                    record=form.record(),
                    by=request.user,
                    now=timezone.now(),
                    spacing_override_reason=form.cleaned_data.get("spacing_override_reason", ""),
                    appointment=appointment,
                )
            except rules.DomainError as error:
                _apply_refusal(form, error)
            else:
                messages.success(
                    request,
                    f"Session {logged.session.number} saved. Check it, then sign it to lock it "
                    "and write the aftercare note.",
                )
                _spacing_messages(request, logged, series)
                return redirect("treatments:session_detail", logged.session.pk)
    else:
        # From an appointment: its time and practitioner; otherwise now and the signed-in one.
        local_now = (appointment.starts_at if appointment else timezone.now()).astimezone(
            clock.clinic_tz()
        )
        practitioner = appointment.practitioner if appointment else own_practitioner(request.user)
        treatment_type = series.treatment_type
        initial: dict[str, Any] = {
            "practitioner": practitioner.pk if practitioner else None,
            "performed_on": local_now.date(),
            # An appointment's own start, to the minute (16:51 stays 16:51); "now" rounds
            # down to the 5 minutes a practitioner would write.
            "performed_time": local_now.time().replace(
                minute=local_now.minute if appointment else local_now.minute - local_now.minute % 5,
                second=0,
                microsecond=0,
            ),
            "areas": previous.areas if previous else [TreatedArea.FACE],
            "redness": "none",
        }
        # A type saved before the catalogue's rules held (0 minutes): no proposal, the
        # practitioner types the duration.
        with contextlib.suppress(ValueError):
            initial["duration_minutes"] = rules.expected_duration_minutes(
                areas=initial["areas"],
                default_minutes=treatment_type.default_duration_minutes,
                extra_area_minutes=treatment_type.extra_area_minutes,
            )
        if previous is not None:
            # Start from last time's settings: practitioners adjust from there.
            initial.update(
                {PARAMETER_PREFIX + name: value for name, value in previous.parameters.items()}
            )
        form = SessionForm(initial=initial, **_form_kwargs(request, series))
    number = previous.number + 1 if previous else 1
    return render(
        request,
        "treatments/session_form.html",
        {
            **_clinical_context(series),
            "form": form,
            "number": number,
            "previous": previous,
            "appointment": appointment,
            "title": f"Log session {number}",
        },
    )


@role_required(*CLINICAL_ROLES)
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _get_session(session_id)
    series = session.series
    audit.record_view(session, patient_id=series.patient_id)
    specs = series.treatment_type.parameter_specs
    known = {spec.name for spec in specs}
    parameters = [
        (spec.label, session.parameters.get(spec.name), spec.unit)
        for spec in specs
        if spec.name in session.parameters
    ] + [(name, value, "") for name, value in session.parameters.items() if name not in known]
    amendments = list(session.amendments.all())
    parameter_labels = {spec.name: spec.label for spec in specs}
    return render(
        request,
        "treatments/session_detail.html",
        {
            **_clinical_context(series),
            "session": session,
            "parameters": parameters,
            "areas": [str(dict(TreatedArea.choices).get(area, area)) for area in session.areas],
            "amendments": [
                (amendment, _changes_for_display(amendment.changes, parameter_labels))
                for amendment in amendments
            ],
            "aftercare_preview": _aftercare_preview(session),
        },
    )


def _aftercare_preview(session: TreatmentSession) -> str:
    template = session.series.treatment_type.aftercare_template.rstrip()
    additions = session.aftercare_additions.strip()
    return f"{template}\n\n{additions}" if additions else template


def _display(name: str, value: Any, parameter_labels: dict[str, str]) -> str:
    """A value from the amendment trail as staff read it."""
    if value in (None, "", [], {}):
        return "—"
    if name == "performed_at":
        moment = dt.datetime.fromisoformat(value)
        return long_datetime(moment)
    if name == "areas":
        labels = dict(TreatedArea.choices)
        return ", ".join(str(labels.get(area, area)) for area in value)
    if name == "redness":
        return str(dict(Redness.choices).get(value, value))
    if name == "parameters":
        # In the treatment type's order: PostgreSQL's jsonb does not keep the keys' order.
        order = {key: index for index, key in enumerate(parameter_labels)}
        items = sorted(value.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
        return ", ".join(f"{parameter_labels.get(key, key)} {val}" for key, val in items)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _changes_for_display(
    changes: dict[str, Any], parameter_labels: dict[str, str]
) -> list[tuple[str, str, str]]:
    order = {name: index for index, name in enumerate(AMENDABLE_FIELDS)}
    return [
        (
            FIELD_LABELS.get(name, name),
            _display(name, change["before"], parameter_labels),
            _display(name, change["after"], parameter_labels),
        )
        for name, change in sorted(changes.items(), key=lambda item: order.get(item[0], 99))
    ]


@role_required(*CLINICAL_ROLES)
def session_edit(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _get_session(session_id)
    series = session.series
    if session.signed_at is not None:
        messages.info(request, "This session is signed: change it with an amendment.")
        return redirect("treatments:session_amend", session.pk)
    kwargs = _form_kwargs(request, series, current_practitioner_id=session.practitioner_id)
    if request.method == "POST":
        form = SessionForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                logged = session_update_draft(
                    session=session,
                    record=form.record(),
                    by=request.user,
                    now=timezone.now(),
                    spacing_override_reason=form.cleaned_data.get("spacing_override_reason", ""),
                )
            except rules.DomainError as error:
                _apply_refusal(form, error)
            else:
                messages.success(request, f"Session {session.number} updated.")
                _spacing_messages(request, logged, series)
                return redirect("treatments:session_detail", session.pk)
    else:
        form = SessionForm(initial=session_initial(session), **kwargs)
    return render(
        request,
        "treatments/session_form.html",
        {
            **_clinical_context(series),
            "form": form,
            "number": session.number,
            "session": session,
            "title": f"Edit session {session.number}",
        },
    )


@require_POST
@role_required(*CLINICAL_ROLES)
def session_sign_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _get_session(session_id)
    try:
        session_sign(session=session, by=request.user, now=timezone.now())
    except SessionError as error:
        messages.error(request, error.message)
        return redirect("treatments:session_detail", session.pk)
    messages.success(
        request,
        f"Session {session.number} signed and locked. Here is the aftercare note for "
        f"{session.series.patient.full_name}.",
    )
    return redirect("treatments:aftercare_detail", session.pk)


@require_POST
@role_required(*CLINICAL_ROLES)
def session_discard_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _get_session(session_id)
    try:
        session_discard(session=session)
    except SessionError as error:
        messages.error(request, error.message)
        return redirect("treatments:session_detail", session.pk)
    messages.success(request, f"Draft session {session.number} discarded.")
    return redirect("treatments:series_detail", session.series_id)


@role_required(*CLINICAL_ROLES)
def session_amend_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _get_session(session_id)
    series = session.series
    if session.signed_at is None:
        return redirect("treatments:session_edit", session.pk)
    kwargs = _form_kwargs(request, series, current_practitioner_id=session.practitioner_id)
    if request.method == "POST":
        form = SessionAmendForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                session_amend(
                    session=session,
                    record=form.record(),
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                    now=timezone.now(),
                    spacing_override_reason=form.cleaned_data.get("spacing_override_reason", ""),
                )
            except rules.DomainError as error:
                _apply_refusal(form, error)
            else:
                messages.success(
                    request,
                    f"Amendment to session {session.number} saved; the original values stay "
                    "in its history.",
                )
                return redirect("treatments:session_detail", session.pk)
    else:
        initial = session_initial(session)
        initial.pop("spacing_override_reason", None)
        form = SessionAmendForm(initial=initial, **kwargs)
    return render(
        request,
        "treatments/session_amend.html",
        {**_clinical_context(series), "form": form, "session": session},
    )


@role_required(*CLINICAL_ROLES)
def aftercare_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _get_session(session_id)
    note = getattr(session, "aftercare_note", None)
    if note is None:
        messages.info(request, "The aftercare note is written when the session is signed.")
        return redirect("treatments:session_detail", session.pk)
    series = session.series
    audit.record_view(note, patient_id=series.patient_id)
    return render(
        request,
        "treatments/aftercare_detail.html",
        {
            "note": note,
            "session": session,
            "series": series,
            "performed_on": long_date(session.performed_at),
            "progress": series_progress(series, today=clock.today()),
        },
    )
