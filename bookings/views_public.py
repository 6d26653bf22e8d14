"""Patient self-service pages: confirm, cancel, move, pick the next session, unsubscribe.

No login: the signed token in the URL is the patient's key to one appointment or series
(``bookings.selfservice``). A token we did not sign is a 404 that shows nothing; an expired
one gets a page that explains (410); a used or outdated one shows where things stand.
GET never changes anything (mail scanners open links); every change is a POST, then a
redirect back to the link's page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from bookings import reminders, selfservice
from bookings.links import LinkExpired, LinkInvalid, Purpose
from bookings.models import Appointment
from bookings.selfservice import LinkState
from clinic import date_input
from treatments.rules import DomainError, format_long_date

PUBLIC_METHODS = ["GET", "HEAD", "POST"]
# Templates would call an Enum class; a plain mapping reads as ``states.OPEN``.
LINK_STATES = {state.name: state.value for state in LinkState}


def _expired(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "bookings/public_link_expired.html",
        {"max_age_days": settings.SELF_SERVICE_LINK_MAX_AGE_DAYS},
        status=410,
    )


def _appointment_context(appointment: Appointment) -> dict[str, Any]:
    """What a self-service page shows: the patient's first name and the appointment, no more."""
    return {
        "given_name": appointment.patient.given_name,
        "when": reminders.local_when(appointment.starts_at),
        "treatment": appointment.treatment_type.name,
        "practitioner": appointment.practitioner.display_name,
        "appointment": appointment,
    }


def _appointment_page(
    request: HttpRequest,
    token: str,
    *,
    purpose: Purpose,
    template: str,
    act: Any,
    done: str,
    extra: Any = None,
) -> HttpResponse:
    now = timezone.now()
    try:
        linked = selfservice.open_appointment_link(token, purpose=purpose, now=now)
    except LinkInvalid:
        raise Http404("No such link") from None
    except LinkExpired:
        return _expired(request)
    error = ""
    if request.method == "POST":
        try:
            act(linked=linked, request=request, now=now)
        except DomainError as problem:
            error = problem.message
        else:
            messages.success(request, done)
            return redirect(request.path)
    context = {
        **_appointment_context(linked.appointment),
        "state": linked.state,
        "states": LINK_STATES,
        "error": error,
        "too_late": selfservice.within_cancel_notice(linked.appointment, now=now),
        "notice_hours": settings.SELF_SERVICE_CANCEL_NOTICE_HOURS,
    }
    if extra is not None:
        context.update(extra(linked=linked, now=now))
    return render(request, template, context)


@login_not_required
@never_cache
@require_http_methods(PUBLIC_METHODS)
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    return _appointment_page(
        request,
        token,
        purpose=Purpose.CONFIRM,
        template="bookings/public_confirm.html",
        act=lambda linked, request, now: selfservice.patient_confirm(linked=linked, now=now),
        done="Thank you: your appointment is confirmed.",
    )


@login_not_required
@never_cache
@require_http_methods(PUBLIC_METHODS)
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    return _appointment_page(
        request,
        token,
        purpose=Purpose.CANCEL,
        template="bookings/public_cancel.html",
        act=lambda linked, request, now: selfservice.patient_cancel(linked=linked, now=now),
        done="Your appointment is cancelled. We have emailed you a note of it.",
    )


def _page_from(request: HttpRequest) -> dt.date | None:
    """The week the patient is looking at (``?from=YYYY-MM-DD``); rubbish (or a date out of
    range) means the first: the address comes from our own "later times" links."""
    value = request.POST.get("from") or request.GET.get("from") or ""
    try:
        return date_input.parse_day(value) if value else None
    except date_input.DateInputError:
        return None


def _offered(request: HttpRequest, week: selfservice.OfferedWeek) -> dict[str, Any]:
    def page_url(day: dt.date | None) -> str:
        return f"{request.path}?{urlencode({'from': day.isoformat()})}" if day else ""

    return {
        "days": [
            {"label": format_long_date(day.day), "day": day.day, "times": day.times}
            for day in week.days
        ],
        "week_from": week.days[0].day.isoformat() if week.days else "",
        "usual_practitioner": week.usual_practitioner,
        "earlier_url": page_url(week.earlier_from),
        "later_url": page_url(week.later_from),
    }


@login_not_required
@never_cache
@require_http_methods(PUBLIC_METHODS)
def reschedule(request: HttpRequest, token: str) -> HttpResponse:
    def move(*, linked: Any, request: HttpRequest, now: dt.datetime) -> None:
        selfservice.patient_reschedule(linked=linked, slot=request.POST.get("slot", ""), now=now)

    def options(*, linked: Any, now: dt.datetime) -> dict[str, Any]:
        if linked.state != LinkState.OPEN or selfservice.within_cancel_notice(
            linked.appointment, now=now
        ):
            return {"days": []}
        return _offered(
            request,
            selfservice.reschedule_options(
                linked.appointment, now=now, page_from=_page_from(request)
            ),
        )

    return _appointment_page(
        request,
        token,
        purpose=Purpose.RESCHEDULE,
        template="bookings/public_reschedule.html",
        act=move,
        done="Your appointment has moved. We will email you the new time.",
        extra=options,
    )


@login_not_required
@never_cache
@require_http_methods(PUBLIC_METHODS)
def pick(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    try:
        linked = selfservice.open_series_link(token, now=now)
    except LinkInvalid:
        raise Http404("No such link") from None
    except LinkExpired:
        return _expired(request)
    error = ""
    if request.method == "POST":
        try:
            selfservice.patient_pick(linked=linked, slot=request.POST.get("slot", ""), now=now)
        except DomainError as problem:
            error = problem.message
        else:
            messages.success(request, "Your next session is booked. We will email you the details.")
            return redirect(request.path)
    series = linked.series
    context = {
        "given_name": series.patient.given_name,
        "treatment": series.treatment_type.name,
        "state": linked.state,
        "states": LINK_STATES,
        "error": error,
        "window_first": format_long_date(linked.window_first_day)
        if linked.window_first_day
        else "",
        "window_last": format_long_date(linked.window_last_day) if linked.window_last_day else "",
        "next_when": reminders.local_when(linked.next_booking.starts_at)
        if linked.next_booking
        else "",
        **_offered(
            request, selfservice.pick_options(linked, now=now, page_from=_page_from(request))
        ),
    }
    return render(request, "bookings/public_pick.html", context)


@login_not_required
@never_cache
# Mail programs send RFC 8058 one-click unsubscribes as a POST with no CSRF token; the signed
# token in the URL is what authorises the change.
@csrf_exempt
@require_http_methods(PUBLIC_METHODS)
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        patient = selfservice.open_unsubscribe_link(token)
    except LinkInvalid:
        raise Http404("No such link") from None
    except LinkExpired:
        return _expired(request)
    if request.method == "POST":
        selfservice.patient_unsubscribe(
            patient=patient, also_reminders=request.POST.get("also_reminders") == "on"
        )
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse("Unsubscribed.", content_type="text/plain")
        messages.success(request, "Done: you will get no more follow-up or maintenance emails.")
        return redirect(request.path)
    return render(
        request,
        "bookings/public_unsubscribe.html",
        {"given_name": patient.given_name, "patient": patient},
    )
