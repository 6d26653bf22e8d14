"""Reception pages: calendar, booking, appointment actions, slot search, due list, series.

Views parse, call a service or selector, and render or redirect (post/redirect/get). A
domain error becomes a message on the form; nothing the user typed is lost.
"""

from __future__ import annotations

import datetime as dt
from contextlib import suppress
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from bookings import calendar_cache, forms, selectors, services
from bookings import rules as booking_rules
from bookings.models import Appointment, AppointmentStatus
from clinic import date_input
from clinic.clock import clinic_tz, local_datetime, local_day, today
from clinic.errors import DomainError, NotAllowed
from clinic.formats import long_date, long_datetime, short_date
from clinic.models import Patient, Practitioner
from clinic.roles import Role, can_see_clinical, has_role, role_required, user_roles
from treatments.models import TreatmentSeries


def _date_param(value: str | None, default: dt.date) -> dt.date:
    """The ``?date=`` of a page, ``default`` when absent; :class:`DateInputError` when it is
    not a date or lies outside the years the clinic can use."""
    return date_input.parse_day(value) if value else default


def _int_param(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _url(name: str, *args: Any, **query: Any) -> str:
    params = {key: value for key, value in query.items() if value not in (None, "")}
    base = reverse(name, args=args)
    return f"{base}?{urlencode(params, safe=':')}" if params else base


def _optional_url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _can_override(user: Any) -> bool:
    return has_role(user, Role.PRACTITIONER)


def _earliest_hint(error: Exception) -> dt.date | None:
    earliest = getattr(error, "earliest", None)
    return earliest if isinstance(earliest, dt.date) else None


# ---------------------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------------------


@role_required()
def calendar_day(request: HttpRequest) -> HttpResponse:
    version = calendar_cache.current_version()  # first: see bookings.calendar_cache
    now = timezone.now()
    this_day = today()
    try:
        day = _date_param(request.GET.get("date"), this_day)
    except date_input.DateInputError as error:
        messages.error(request, error.message)
        return redirect("bookings:calendar_day")
    booking = _booking_params(request)

    def draw() -> tuple[str, bytes]:
        booking_for, book_query = _booking_for(booking)
        context = {
            "calendar": selectors.calendar_day(day=day, now=now),
            "booking_for": booking_for,
            "book_query": book_query,
            "day": day,
            "is_today": day == this_day,
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
            "picker": forms.DayPickerForm(initial={"date": day}),
            "long_date": long_date(day),
        }
        return (
            f"Calendar {short_date(day)}",
            render_to_string("bookings/_calendar_day_content.html", context).encode(),
        )

    title, content = calendar_cache.cached(
        ("day", day, this_day, booking), version=version, now=now, render=draw
    )
    return _calendar_page(request, "bookings/calendar_day.html", title, content)


def _booking_params(request: HttpRequest) -> tuple[int | None, int | None, int | None]:
    """What "booking for" mode reads from the address: patient, series, treatment type. The
    calendars key their cache on it and draw from it (:func:`_booking_for`)."""
    return (
        _int_param(request.GET.get("patient")),
        _int_param(request.GET.get("series")),
        _int_param(request.GET.get("treatment_type")),
    )


_CONTENT_MARK = "<!-- calendar -->"


def _calendar_page(request: HttpRequest, template: str, title: str, content: bytes) -> HttpResponse:
    """The page around a drawn calendar. The calendar (already UTF-8, ~250 kB on a busy day)
    is spliced into the rendered page as bytes rather than passed through the template engine
    and encoded again on every look."""
    marker = mark_safe(_CONTENT_MARK)  # noqa: S308 - a constant comment
    response = render(request, template, {"title": title, "content": marker})
    head, mark, tail = response.content.partition(_CONTENT_MARK.encode())
    if not mark:
        raise ImproperlyConfigured(f"{template} must show {{{{ content }}}}")
    response.content = b"".join((head, content, tail))
    return response


def _booking_for(
    params: tuple[int | None, int | None, int | None],
) -> tuple[dict[str, Any] | None, str]:
    """ "Booking for" mode: the calendar was opened to find a time for one patient (and
    series), so its free cells carry them to the booking form. ``params`` is
    :func:`_booking_params`."""
    patient_id, series_id, treatment_type_id = params
    patient = _patient_or_none(patient_id)
    if patient is None:
        return None, ""
    query: dict[str, Any] = {"patient": patient.pk}
    series = None
    if series_id is not None:
        series = (
            TreatmentSeries.objects.select_related("treatment_type")
            .filter(pk=series_id, patient=patient)
            .first()
        )
    if series is not None:
        query.update(series=series.pk, treatment_type=series.treatment_type_id)
    elif treatment_type_id is not None:
        query["treatment_type"] = treatment_type_id
    return {"patient": patient, "series": series}, urlencode(query)


@role_required()
def calendar_week(request: HttpRequest, practitioner_id: int) -> HttpResponse:
    version = calendar_cache.current_version()  # first: see bookings.calendar_cache
    now = timezone.now()
    this_day = today()
    try:
        day = _date_param(request.GET.get("date"), this_day)
    except date_input.DateInputError as error:
        messages.error(request, error.message)
        return redirect("bookings:calendar_week", practitioner_id)
    week_start = day - dt.timedelta(days=day.weekday())
    booking = _booking_params(request)

    def draw() -> tuple[str, bytes]:
        practitioner = get_object_or_404(Practitioner, pk=practitioner_id)
        booking_for, book_query = _booking_for(booking)
        context = {
            "week": selectors.calendar_week(
                practitioner=practitioner, week_start=week_start, now=now
            ),
            "booking_for": booking_for,
            "book_query": book_query,
            "practitioner": practitioner,
            "week_start": week_start,
            "week_end": week_start + dt.timedelta(days=6),
            "previous_week": week_start - dt.timedelta(days=7),
            "next_week": week_start + dt.timedelta(days=7),
            "this_week": this_day - dt.timedelta(days=this_day.weekday()),
            "picker": forms.DayPickerForm(initial={"date": day}),
            "practitioners": list(Practitioner.objects.filter(is_active=True)),
        }
        return (
            f"{practitioner.display_name}: week of {week_start:%-d %b}",
            render_to_string("bookings/_calendar_week_content.html", context).encode(),
        )

    title, content = calendar_cache.cached(
        ("week", practitioner_id, week_start, day, this_day, booking),
        version=version,
        now=now,
        render=draw,
    )
    return _calendar_page(request, "bookings/calendar_week.html", title, content)


# ---------------------------------------------------------------------------------------------
# Booking
# ---------------------------------------------------------------------------------------------

CARRIED = ("practitioner", "date", "time", "treatment_type", "series", "room")


def _patient_or_none(value: Any) -> Patient | None:
    pk = _int_param(value)
    if pk is None:
        return None
    return Patient.objects.filter(pk=pk, is_active=True).first()


@role_required()
def appointment_new(request: HttpRequest) -> HttpResponse:
    params = request.POST if request.method == "POST" else request.GET
    patient = _patient_or_none(params.get("patient"))
    if patient is None:
        return _pick_patient(request)
    can_override = _can_override(request.user)
    series_offer = None
    series = None
    series_id = _int_param(params.get("series"))
    if series_id is not None:
        series = TreatmentSeries.objects.filter(pk=series_id, patient=patient).first()
    if request.method == "POST":
        form = forms.BookingForm(request.POST, patient=patient, can_override=can_override)
        if form.is_valid():
            data = form.cleaned_data
            try:
                appointment = services.appointment_book(
                    patient=patient,
                    practitioner=data["practitioner"],
                    treatment_type=data["treatment_type"],
                    starts_at=data["starts_at"],
                    booked_by=request.user,
                    room=data.get("room"),
                    series=data.get("series"),
                    duration_minutes=data.get("duration_minutes"),
                    notes=data.get("notes", ""),
                    spacing_override_reason=data.get("spacing_override_reason", ""),
                    suitability_override_reason=data.get("suitability_override_reason", ""),
                )
            except services.DomainError as error:
                form.add_error(None, error.message)
                earliest = _earliest_hint(error)
                series_offer = _series_offer(error, data, patient)
            else:
                messages.success(request, _booked_message(appointment))
                return redirect("bookings:appointment_detail", appointment.pk)
        else:
            earliest = None
    else:
        initial: dict[str, Any] = {"patient": patient.pk}
        for name in CARRIED:
            if request.GET.get(name):
                initial[name] = request.GET[name]
        if series is not None:
            initial["series"] = series.pk
            initial["treatment_type"] = series.treatment_type_id
            if "practitioner" not in initial:
                initial["practitioner"] = series.planned_by_id
        form = forms.BookingForm(initial=initial, patient=patient, can_override=can_override)
        earliest = None
    suitability, summary = selectors.latest_suitability(patient)
    state = selectors.series_state(series) if series is not None else None
    return render(
        request,
        "bookings/appointment_form.html",
        {
            "form": form,
            "series_offer": series_offer,
            "patient": patient,
            "suitability": suitability,
            "suitability_summary": summary,
            "series": series,
            "series_state": state,
            "earliest": earliest,
            "earliest_search_url": _slot_search_url_from(earliest, form, patient)
            if earliest
            else "",
            "upcoming": selectors.patient_upcoming_appointments(patient, now=timezone.now()),
            "patient_url": _optional_url("clinic:patient_detail", patient.pk),
        },
    )


def _series_offer(error: Exception, data: dict[str, Any], patient: Patient) -> dict | None:
    """A one-off refused for spacing, for a patient with an open series of that treatment:
    offer to book it as the series' next session instead (the form again, series set)."""
    if not isinstance(error, services.SpacingViolation) or data.get("series") is not None:
        return None
    series = selectors.open_series_of(patient=patient, treatment_type=data["treatment_type"])
    if series is None:
        return None
    local = data["starts_at"].astimezone(clinic_tz())
    return {
        "series": series,
        "number": selectors.series_state(series).next_number,
        "url": _url(
            "bookings:appointment_new",
            patient=patient.pk,
            series=series.pk,
            treatment_type=series.treatment_type_id,
            practitioner=data["practitioner"].pk,
            date=local.date().isoformat(),
            time=local.strftime("%H:%M"),
            room=data["room"].pk if data.get("room") else None,
        ),
    }


def _slot_search_url_from(earliest: dt.date, form: Any, patient: Patient) -> str:
    data = form.data if form.is_bound else form.initial
    return _url(
        "bookings:slot_search",
        treatment_type=data.get("treatment_type"),
        series=data.get("series"),
        patient=patient.pk,
        first_day=earliest.isoformat(),
        last_day=(earliest + dt.timedelta(days=13)).isoformat(),
    )


def _booked_message(appointment: Appointment) -> str:
    text = (
        f"Booked {appointment.patient} with {appointment.practitioner} on "
        f"{long_datetime(appointment.starts_at)} "
        f"({appointment.room})."
    )
    if appointment.overdue:
        text += " This session is later than its series window: flagged as overdue."
    return text


def _carried_when(carried: dict[str, str]) -> str:
    """The time picked on the calendar, written out ("" if it is not a real clinic time)."""
    try:
        day = dt.date.fromisoformat(carried.get("date", ""))
        wall = dt.time.fromisoformat(carried.get("time", ""))
    except ValueError:
        return ""
    moment = local_datetime(day, wall)
    return long_datetime(moment) if moment is not None else ""


def _pick_patient(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    carried = {name: request.GET[name] for name in CARRIED if request.GET.get(name)}
    results = selectors.patient_search(query) if query else []
    choose_urls = [
        (patient, _url("bookings:appointment_new", patient=patient.pk, **carried))
        for patient in results
    ]
    # Types: pk=None finds nobody, as intended.
    practitioner = Practitioner.objects.filter(pk=_int_param(carried.get("practitioner"))).first()  # type: ignore[misc]
    return render(
        request,
        "bookings/appointment_pick_patient.html",
        {
            "query": query,
            "results": choose_urls,
            "carried": carried,
            "carried_when": _carried_when(carried),
            "practitioner": practitioner,
            "new_patient_url": _optional_url("clinic:patient_create"),
        },
    )


# ---------------------------------------------------------------------------------------------
# One appointment
# ---------------------------------------------------------------------------------------------


def _appointment_or_404(pk: int) -> Appointment:
    try:
        return selectors.appointment_detail(pk)
    except Appointment.DoesNotExist:
        raise Http404("No such appointment.") from None


# How each status button looks; which buttons show is the transition table's decision.
ACTION_STYLES = {
    "confirm": "outline-success",
    "check_in": "success",
    "no_show": "outline-dark",
    "complete": "primary",
}


def _refusal(appointment: Appointment, user: Any, action: str) -> DomainError | None:
    """Why the transition table refuses ``action`` to this user now (``None``: it allows it)."""
    return booking_rules.transition_refusal(
        action,
        status=appointment.status,
        starts_at=appointment.starts_at,
        now=timezone.now(),
        tz=clinic_tz(),
        roles=user_roles(user),
    )


def _allowed(appointment: Appointment, user: Any) -> set[str]:
    """The actions the transition table allows this user on this appointment right now."""
    transitions = booking_rules.allowed_actions(
        status=appointment.status,
        starts_at=appointment.starts_at,
        now=timezone.now(),
        tz=clinic_tz(),
        roles=user_roles(user),
    )
    return {transition.action for transition in transitions}


def _actions(appointment: Appointment, user: Any) -> list[dict[str, str]]:
    """The lifecycle buttons this appointment offers this user right now."""
    allowed = _allowed(appointment, user)
    return [
        {"action": action, "label": booking_rules.TRANSITIONS[action].label, "style": style}
        for action, style in ACTION_STYLES.items()
        if action in allowed
    ]


@role_required()
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment_or_404(pk)
    log_session_url = ""
    if (
        appointment.status == AppointmentStatus.COMPLETED
        and appointment.series_id
        and appointment.treatment_session_id is None
        and can_see_clinical(request.user)
    ):
        base = _optional_url("treatments:session_log", appointment.series_id)
        log_session_url = f"{base}?appointment={appointment.pk}" if base else ""
    session_url = ""
    if appointment.treatment_session_id and can_see_clinical(request.user):
        session_url = _optional_url("treatments:session_detail", appointment.treatment_session_id)
    return render(
        request,
        "bookings/appointment_detail.html",
        {
            "appointment": appointment,
            # Override reasons are clinical: receptionists see that one was recorded, not why.
            "clinical": can_see_clinical(request.user),
            "actions": _actions(appointment, request.user),
            "can_move": "move" in _allowed(appointment, request.user),
            "can_cancel": "cancel" in _allowed(appointment, request.user),
            "log_session_url": log_session_url,
            "session_url": session_url,
            "patient_url": _optional_url("clinic:patient_detail", appointment.patient_id),
            "series_url": _optional_url("treatments:series_detail", appointment.series_id)
            if appointment.series_id and can_see_clinical(request.user)
            else "",
            "day_url": _url(
                "bookings:calendar_day",
                date=local_day(appointment.starts_at).isoformat(),
            ),
        },
    )


ACTION_MESSAGES = {
    "confirm": "Appointment confirmed.",
    "check_in": "Checked in: the practitioner can see the patient has arrived.",
    "no_show": "Marked as a no-show.",
    "complete": "Appointment completed.",
}


@role_required()
@require_POST
def appointment_action(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = get_object_or_404(Appointment, pk=pk)
    action = request.POST.get("action", "")
    try:
        if action == "confirm":
            services.appointment_confirm(appointment=appointment, confirmed_by=request.user)
        elif action == "check_in":
            services.appointment_check_in(appointment=appointment, checked_in_by=request.user)
        elif action == "no_show":
            services.appointment_mark_no_show(appointment=appointment, marked_by=request.user)
        elif action == "complete":
            services.appointment_complete(appointment=appointment, completed_by=request.user)
        else:
            messages.error(request, "Unknown action.")
            return redirect("bookings:appointment_detail", pk)
    except NotAllowed as refusal:
        raise PermissionDenied(refusal.message) from refusal
    except services.DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, ACTION_MESSAGES[action])
    return redirect("bookings:appointment_detail", pk)


@role_required()
def appointment_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment_or_404(pk)
    refusal = _refusal(appointment, request.user, "move")
    if refusal is not None:
        messages.error(request, refusal.message)
        return redirect("bookings:appointment_detail", pk)
    can_override = _can_override(request.user)
    earliest = None
    if request.method == "POST":
        form = forms.RescheduleForm(request.POST, can_override=can_override)
        if form.is_valid():
            data = form.cleaned_data
            try:
                moved = services.appointment_reschedule(
                    appointment=appointment,
                    starts_at=data["starts_at"],
                    practitioner=data["practitioner"],
                    room=data.get("room"),
                    changed_by=request.user,
                    reason=data.get("reason", ""),
                    spacing_override_reason=data.get("spacing_override_reason", ""),
                )
            except services.DomainError as error:
                form.add_error(None, error.message)
                earliest = _earliest_hint(error)
            else:
                messages.success(
                    request,
                    f"Moved to {long_datetime(moved.starts_at)} "
                    f"with {moved.practitioner} ({moved.room}). The old time is "
                    "kept in the history.",
                )
                return redirect("bookings:appointment_detail", pk)
    else:
        local = appointment.starts_at.astimezone(clinic_tz())
        initial = {
            "date": request.GET.get("date") or local.date(),
            "time": request.GET.get("time") or local.strftime("%H:%M"),
            "practitioner": request.GET.get("practitioner") or appointment.practitioner_id,
        }
        form = forms.RescheduleForm(initial=initial, can_override=can_override)
    search_from = max(today(), local_day(appointment.starts_at) - dt.timedelta(days=3))
    return render(
        request,
        "bookings/appointment_reschedule.html",
        {
            "appointment": appointment,
            "form": form,
            "earliest": earliest,
            "search_url": _url(
                "bookings:slot_search",
                treatment_type=appointment.treatment_type_id,
                patient=appointment.patient_id,
                reschedule=appointment.pk,
                first_day=(earliest or search_from).isoformat(),
                last_day=((earliest or search_from) + dt.timedelta(days=13)).isoformat(),
            ),
        },
    )


@role_required()
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _appointment_or_404(pk)
    refusal = _refusal(appointment, request.user, "cancel")
    if refusal is not None:
        messages.error(request, refusal.message)
        return redirect("bookings:appointment_detail", pk)
    if request.method == "POST":
        form = forms.CancelForm(request.POST)
        if form.is_valid():
            try:
                services.appointment_cancel(
                    appointment=appointment,
                    reason=form.cleaned_data["reason"],
                    cancelled_by=request.user,
                )
            except services.DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Appointment cancelled. The time is free again.")
                return redirect("bookings:appointment_detail", pk)
    else:
        form = forms.CancelForm()
    return render(
        request, "bookings/appointment_cancel.html", {"appointment": appointment, "form": form}
    )


# ---------------------------------------------------------------------------------------------
# Slot search
# ---------------------------------------------------------------------------------------------


@role_required()
def slot_search(request: HttpRequest) -> HttpResponse:
    params = request.GET.copy()
    series = None
    series_id = _int_param(params.get("series"))
    if series_id is not None:
        series = (
            TreatmentSeries.objects.select_related("treatment_type", "patient")
            .filter(pk=series_id)
            .first()
        )
    state = selectors.series_state(series) if series is not None else None
    if series is not None and state is not None:
        params.setdefault("treatment_type", str(series.treatment_type_id))
        params.setdefault("patient", str(series.patient_id))
        first, last = booking_rules.search_range_for_window(window=state.window, today=today())
        params.setdefault("first_day", first.isoformat())
        params.setdefault("last_day", last.isoformat())
    params.setdefault("first_day", today().isoformat())
    with suppress(date_input.DateInputError):  # the form then says what is wrong with it
        params.setdefault(
            "last_day",
            (_date_param(params.get("first_day"), today()) + dt.timedelta(days=13)).isoformat(),
        )
    # Loaded once for the form's options and validation and for the search itself.
    treatment_types = list(forms.active_treatment_types())
    practitioners = list(forms.active_practitioners())
    if "treatment_type" not in params and treatment_types:
        params["treatment_type"] = str(treatment_types[0].pk)
    form = forms.SlotSearchForm(
        params, treatment_types=treatment_types, practitioners=practitioners
    )
    result = None
    patient = _patient_or_none(params.get("patient"))
    reschedule = None
    if form.is_valid():
        data = form.cleaned_data
        reschedule_id = data.get("reschedule")
        if reschedule_id:
            reschedule = Appointment.objects.filter(pk=reschedule_id).first()
        result = selectors.free_slots(
            treatment_type=data["treatment_type"],
            first_day=data["first_day"],
            last_day=data["last_day"],
            now=timezone.now(),
            practitioner=data.get("practitioner"),
            active_practitioners=practitioners,
            patient_id=patient.pk if patient else None,
            duration_minutes=(
                int((reschedule.ends_at - reschedule.starts_at).total_seconds() // 60)
                if reschedule
                else None
            ),
            exclude_appointment_id=reschedule.pk if reschedule else None,
        )
        for day in result.days:
            for option in day.options:
                # Types: set on the option for the template.
                option.url = _option_url(option, data, patient, series, reschedule)  # type: ignore[attr-defined]
            day.calendar_url = _url(
                "bookings:calendar_day",
                date=day.day.isoformat(),
                patient=patient.pk if patient and reschedule is None else None,
                series=series.pk if series and reschedule is None else None,
                treatment_type=data["treatment_type"].pk
                if patient and reschedule is None
                else None,
            )
    return render(
        request,
        "bookings/slot_search.html",
        {
            "form": form,
            "result": result,
            "patient": patient,
            "series": series,
            "series_state": state,
            "reschedule": reschedule,
        },
    )


def _option_url(
    option: selectors.SlotOption,
    data: dict[str, Any],
    patient: Patient | None,
    series: TreatmentSeries | None,
    reschedule: Appointment | None,
) -> str:
    local = option.local_start
    when = {
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "practitioner": option.practitioner.pk,
    }
    if reschedule is not None:
        return _url("bookings:appointment_reschedule", reschedule.pk, **when)
    return _url(
        "bookings:appointment_new",
        patient=patient.pk if patient else None,
        treatment_type=data["treatment_type"].pk,
        series=series.pk if series else None,
        **when,
    )


# ---------------------------------------------------------------------------------------------
# Due list and the rest of a series
# ---------------------------------------------------------------------------------------------


@role_required()
def due_list(request: HttpRequest) -> HttpResponse:
    lapsed = request.GET.get("lapsed") == "1"
    due = selectors.due_series(
        today=today(), now=timezone.now(), page_number=request.GET.get("page", 1), lapsed=lapsed
    )
    for _, _, entries in due.groups:
        for entry in entries:
            entry.search_url = _url(
                "bookings:slot_search",
                series=entry.series.pk,
                first_day=entry.search_from.isoformat(),
                last_day=entry.search_to.isoformat(),
            )
    return render(
        request, "bookings/due_list.html", {"due": due, "today": today(), "lapsed": lapsed}
    )


@role_required()
def series_book_rest(request: HttpRequest, series_id: int) -> HttpResponse:
    series = get_object_or_404(
        TreatmentSeries.objects.select_related("patient", "treatment_type", "planned_by"),
        pk=series_id,
    )
    plan = selectors.series_proposals(series, now=timezone.now())
    by_number = {proposal.number: proposal for proposal in plan.proposals}
    if request.method == "POST":
        formset = forms.PlannedSessionFormSet(request.POST, prefix="session")
        if formset.is_valid():
            rows = [form.cleaned_data for form in formset.forms if form.cleaned_data.get("book")]
            try:
                booked = services.series_book_remaining(
                    series=series,
                    plan=[
                        services.PlannedSession(
                            starts_at=row["starts_at"], practitioner=row["practitioner"]
                        )
                        for row in rows
                    ],
                    booked_by=request.user,
                )
            except services.DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    f"Booked {len(booked)} sessions for {series.patient}: sessions "
                    f"{booked[0].series_session_number} to {booked[-1].series_session_number}.",
                )
                return redirect(
                    _optional_url("clinic:patient_detail", series.patient_id) or "bookings:due_list"
                )
    else:
        formset = forms.PlannedSessionFormSet(
            prefix="session",
            initial=[
                {
                    "number": proposal.number,
                    "book": proposal.option is not None,
                    "date": proposal.option.local_start.date() if proposal.option else None,
                    "time": proposal.option.local_start.strftime("%H:%M")
                    if proposal.option
                    else None,
                    "practitioner": proposal.option.practitioner.pk if proposal.option else None,
                }
                for proposal in plan.proposals
            ],
        )
    rows = []
    for form in formset.forms:
        number = _int_param(form["number"].value())
        # Types: None finds nothing, as intended.
        rows.append((form, by_number.get(number)))  # type: ignore[arg-type]
    return render(
        request,
        "bookings/series_book_rest.html",
        {"series": series, "plan": plan, "formset": formset, "rows": rows},
    )
