"""Managers' availability pages: opening hours, closures, working hours, time off, rooms,
booking settings and API tokens. Validated forms; writes go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from bookings import forms
from bookings import selectors_closures as closure_selectors
from bookings.models import ApiToken, BookingSettings, TimeOff, WorkingHours
from bookings.rules import BookingError, HoursRefused
from bookings.services import availability as availability_services
from bookings.services import closures as closure_services
from bookings.services import tokens as token_services
from clinic import clock
from clinic.formats import long_date
from clinic.models import ClinicClosure, OpeningHours, Practitioner, Room, Weekday
from clinic.roles import Role, role_required

manager_only = role_required(Role.MANAGER)


@manager_only
def availability_overview(request: HttpRequest) -> HttpResponse:
    today = clock.today()
    practitioners = list(
        Practitioner.objects.order_by("-is_active", "display_name").prefetch_related(
            "working_hours"
        )
    )
    return render(
        request,
        "bookings/availability_overview.html",
        {
            "opening": OpeningHours.objects.order_by("weekday", "opens_at"),
            "closures": ClinicClosure.objects.filter(date__gte=today)[:5],
            "practitioners": practitioners,
            "rooms": Room.objects.prefetch_related("treatment_types").order_by("name"),
            "settings_row": BookingSettings.load(),
            "time_off": TimeOff.objects.filter(ends_at__gte=timezone.now())
            .select_related("practitioner")
            .order_by("starts_at")[:5],
            "weekdays": Weekday,
        },
    )


@manager_only
def opening_hours_edit(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        formset = forms.OpeningHoursFormSet(request.POST, prefix="hours")
        if formset.is_valid():
            kept = [
                form
                for form in formset.forms
                if form.cleaned_data
                and not form.cleaned_data.get("DELETE")
                and form.cleaned_data.get("opens_at")
            ]
            spans = [
                (
                    form.cleaned_data["weekday"],
                    form.cleaned_data["opens_at"],
                    form.cleaned_data["closes_at"],
                )
                for form in kept
            ]
            try:
                availability_services.opening_hours_set(spans=spans)
            except HoursRefused as refused:
                for problem in refused.problems:
                    kept[problem.row].add_error(problem.field, problem.message)
            else:
                messages.success(request, "Opening hours saved.")
                return redirect("bookings:availability")
    else:
        formset = forms.OpeningHoursFormSet(
            prefix="hours",
            initial=[
                {"weekday": row.weekday, "opens_at": row.opens_at, "closes_at": row.closes_at}
                for row in OpeningHours.objects.order_by("weekday", "opens_at")
            ],
        )
    return render(request, "bookings/opening_hours_form.html", {"formset": formset})


@manager_only
def closures(request: HttpRequest) -> HttpResponse:
    tz = clock.clinic_tz()
    if request.method == "POST":
        form = forms.ClosureForm(request.POST)
        if form.is_valid():
            try:
                closure, clashing = availability_services.closure_add(
                    date=form.cleaned_data["date"], reason=form.cleaned_data["reason"], tz=tz
                )
            except BookingError as error:
                form.add_error("date", error.message)
            else:
                messages.success(request, f"The clinic is closed on {long_date(closure.date)}.")
                if clashing:
                    messages.warning(request, _still_booked(clashing, "that day"))
                    return redirect("bookings:closure_detail", closure.pk)
                return redirect("bookings:closures")
    else:
        form = forms.ClosureForm()
    today = clock.today()
    page = Paginator(ClinicClosure.objects.filter(date__gte=today).order_by("date"), 20).get_page(
        request.GET.get("page")
    )
    return render(request, "bookings/closures.html", {"form": form, "page": page})


def _still_booked(count: int, where: str) -> str:
    if count == 1:
        return f"1 appointment is still booked {where}: it is listed below to move or cancel."
    return (
        f"{count} appointments are still booked {where}: they are listed below to move or cancel."
    )


def _affected_page(
    request: HttpRequest, *, template: str, affected: list[Any], **context: Any
) -> HttpResponse:
    without_email = [appointment for appointment in affected if not appointment.patient.email]
    return render(
        request,
        template,
        {
            **context,
            "affected": affected,
            "without_email": without_email,
            "to_email": len(affected) - len(without_email),
        },
    )


def _chosen_ids(request: HttpRequest) -> list[int]:
    return [int(value) for value in request.POST.getlist("appointment") if value.isdigit()]


def _report_cancellation(
    request: HttpRequest, outcome: closure_services.ClinicCancellation
) -> None:
    if not outcome.cancelled:
        messages.info(request, "Nothing was cancelled: those appointments had changed already.")
        return
    messages.success(
        request,
        f"{outcome.cancelled} appointment(s) cancelled; {len(outcome.emailed)} patient(s) "
        "emailed a link to pick a new time.",
    )
    if outcome.to_phone:
        names = "; ".join(
            f"{appointment.patient} ({appointment.patient.phone or 'no phone on file'})"
            for appointment in outcome.to_phone
        )
        messages.warning(request, f"No email address, please phone: {names}.")


@manager_only
def closure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    closure = get_object_or_404(ClinicClosure, pk=pk)
    affected = closure_selectors.appointments_in_closure(closure=closure, now=timezone.now())
    return _affected_page(
        request,
        template="bookings/closure_detail.html",
        affected=affected,
        closure=closure,
        cancel_url=reverse("bookings:closure_cancel_booked", args=[closure.pk]),
    )


@manager_only
def closure_cancel_booked(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: "Are you sure?" with the list; POST: cancel those and email each patient."""
    closure = get_object_or_404(ClinicClosure, pk=pk)
    if request.method == "POST":
        outcome = closure_services.closure_appointments_cancel(
            closure=closure, appointment_ids=_chosen_ids(request), cancelled_by=request.user
        )
        _report_cancellation(request, outcome)
        return redirect("bookings:closure_detail", closure.pk)
    affected = closure_selectors.appointments_in_closure(closure=closure, now=timezone.now())
    return _affected_page(
        request,
        template="bookings/affected_cancel_confirm.html",
        affected=affected,
        heading=f"Cancel the appointments on {closure.date:%A %d %B %Y}",
        back_url=reverse("bookings:closure_detail", args=[closure.pk]),
    )


@manager_only
@require_POST
def closure_delete(request: HttpRequest, pk: int) -> HttpResponse:
    closure = get_object_or_404(ClinicClosure, pk=pk)
    availability_services.closure_remove(closure=closure)
    messages.success(request, f"{long_date(closure.date)} is an ordinary day again.")
    return redirect("bookings:closures")


@manager_only
def working_hours_edit(request: HttpRequest, practitioner_id: int) -> HttpResponse:
    practitioner = get_object_or_404(Practitioner, pk=practitioner_id)
    if request.method == "POST":
        formset = forms.WorkingWeekFormSet(request.POST, prefix="day")
        if formset.is_valid():
            try:
                availability_services.working_week_set(
                    practitioner=practitioner, days=[form.cleaned_data for form in formset.forms]
                )
            except HoursRefused as refused:
                for problem in refused.problems:
                    formset.forms[problem.row].add_error(problem.field, problem.message)
            else:
                messages.success(request, f"Working hours for {practitioner} saved.")
                return redirect("bookings:availability")
    else:
        formset = forms.WorkingWeekFormSet(
            prefix="day",
            initial=forms.working_week_initial(
                list(WorkingHours.objects.filter(practitioner=practitioner))
            ),
        )
    rows = [(Weekday(index).label, form) for index, form in enumerate(formset.forms)]
    return render(
        request,
        "bookings/working_hours_form.html",
        {"practitioner": practitioner, "formset": formset, "rows": rows},
    )


@manager_only
def time_off(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = forms.TimeOffForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry, clashing = availability_services.time_off_add(
                    practitioner=data["practitioner"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    reason=data.get("reason", ""),
                )
            except BookingError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Time off for {data['practitioner']} recorded.")
                if clashing:
                    messages.warning(request, _still_booked(clashing, "in this time off"))
                    return redirect("bookings:time_off_detail", entry.pk)
                return redirect("bookings:time_off")
    else:
        initial: dict[str, Any] = {}
        if request.GET.get("practitioner"):
            initial["practitioner"] = request.GET["practitioner"]
        form = forms.TimeOffForm(initial=initial)
    page = Paginator(
        TimeOff.objects.filter(ends_at__gte=timezone.now())
        .select_related("practitioner")
        .order_by("starts_at"),
        20,
    ).get_page(request.GET.get("page"))
    return render(request, "bookings/time_off.html", {"form": form, "page": page})


@manager_only
def time_off_detail(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(TimeOff.objects.select_related("practitioner"), pk=pk)
    affected = closure_selectors.appointments_in_time_off(entry=entry, now=timezone.now())
    return _affected_page(
        request,
        template="bookings/time_off_detail.html",
        affected=affected,
        entry=entry,
        cancel_url=reverse("bookings:time_off_cancel_booked", args=[entry.pk]),
    )


@manager_only
def time_off_cancel_booked(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: "Are you sure?" with the list; POST: cancel those and email each patient."""
    entry = get_object_or_404(TimeOff.objects.select_related("practitioner"), pk=pk)
    if request.method == "POST":
        outcome = closure_services.time_off_appointments_cancel(
            entry=entry, appointment_ids=_chosen_ids(request), cancelled_by=request.user
        )
        _report_cancellation(request, outcome)
        return redirect("bookings:time_off_detail", entry.pk)
    affected = closure_selectors.appointments_in_time_off(entry=entry, now=timezone.now())
    return _affected_page(
        request,
        template="bookings/affected_cancel_confirm.html",
        affected=affected,
        heading=f"Cancel {entry.practitioner}'s appointments in their time off",
        back_url=reverse("bookings:time_off_detail", args=[entry.pk]),
    )


@manager_only
@require_POST
def time_off_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(TimeOff, pk=pk)
    availability_services.time_off_remove(entry=entry)
    messages.success(request, f"Time off for {entry.practitioner} removed.")
    return redirect("bookings:time_off")


@manager_only
def rooms(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "bookings/rooms.html",
        {"rooms": Room.objects.prefetch_related("treatment_types").order_by("name")},
    )


@manager_only
def room_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    room = get_object_or_404(Room, pk=pk) if pk is not None else Room()
    if request.method == "POST":
        form = forms.RoomForm(request.POST, instance=room)
        if form.is_valid():
            try:
                saved = availability_services.room_save(
                    room=room,
                    name=form.cleaned_data["name"],
                    is_active=form.cleaned_data["is_active"],
                    treatment_types=form.cleaned_data["treatment_types"],
                )
            except BookingError as error:
                form.add_error("name", error.message)
            else:
                messages.success(request, f"{saved} saved.")
                return redirect("bookings:rooms")
    else:
        form = forms.RoomForm(instance=room)
    return render(request, "bookings/room_form.html", {"form": form, "room": room})


@manager_only
def booking_settings(request: HttpRequest) -> HttpResponse:
    current = BookingSettings.load()
    if request.method == "POST":
        form = forms.BookingSettingsForm(request.POST, instance=current)
        if form.is_valid():
            try:
                availability_services.booking_settings_update(
                    minimum_notice_minutes=form.cleaned_data["minimum_notice_minutes"],
                    horizon_days=form.cleaned_data["horizon_days"],
                )
            except BookingError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Booking settings saved.")
                return redirect("bookings:availability")
    else:
        form = forms.BookingSettingsForm(instance=current)
    return render(request, "bookings/booking_settings_form.html", {"form": form})


@manager_only
def api_tokens(request: HttpRequest) -> HttpResponse:
    issued = None
    if request.method == "POST":
        form = forms.ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                row, token = token_services.api_token_issue(
                    username=form.cleaned_data["username"], name=form.cleaned_data["name"]
                )
            except BookingError as error:
                form.add_error("username", error.message)
            else:
                # Shown once, on this response only: the token is not stored in clear.
                issued = {"row": row, "token": token}
                form = forms.ApiTokenForm()
    else:
        form = forms.ApiTokenForm()
    page = Paginator(ApiToken.objects.select_related("user"), 25).get_page(request.GET.get("page"))
    return render(
        request, "bookings/api_tokens.html", {"form": form, "page": page, "issued": issued}
    )


@manager_only
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk)
    token_services.api_token_revoke(token=token)
    messages.success(request, f"Token {token.prefix}… revoked: it no longer works.")
    return redirect("bookings:api_tokens")
