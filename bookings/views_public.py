"""Patient self-service pages: confirm, cancel, move, pick the next session, unsubscribe.

No login: the signed token in the URL is the patient's key to one appointment or series
(``bookings.selfservice``). A token we did not sign, and any other address under ``/p/`` (cut
short, mistyped), is a 404 with the patient's "this link doesn't work, call us" page that shows
nothing else (in development too: never Django's debug page or the staff sign-in); an expired
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
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from bookings import reminders, selfservice
from bookings.links import LinkExpired, LinkInvalid, Purpose
from bookings.models import Appointment
from bookings.selfservice import LinkState
from clinic import date_input
from clinic.formats import long_date
from treatments.rules import DomainError

PUBLIC_METHODS = ["GET", "HEAD", "POST"]
# Templates would call an Enum class; a plain mapping reads as ``states.OPEN``.
LINK_STATES = {state.name: state.value for state in LinkState}


def _link_not_working(request: HttpRequest) -> HttpResponse:
    """Rendered, not raised: ``Http404`` would show the debug page or the staff 404."""
    return render(request, "bookings/public_link_not_working.html", status=404)


@login_not_required
@never_cache
# Never writes: any method gets the same page (a tampered form POST included).
@csrf_exempt
def link_not_working(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Every other address under ``/p/``; a link that only lost its last slash still opens."""
    if request.method in ("GET", "HEAD") and not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not link_not_working:
            query = request.META.get("QUERY_STRING", "")
            return redirect(request.path + "/" + (f"?{query}" if query else ""))
    return _link_not_working(request)


def _just_done(request: HttpRequest, purpose: Purpose) -> bool:
    """The page is the one a patient lands on right after using this link (see ``done``)."""
    tag = f"selfservice-{purpose}"
    return any(tag in message.extra_tags.split() for message in messages.get_messages(request))


def _expired(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "bookings/public_link_expired.html",
        {"max_age_days": settings.SELF_SERVICE_LINK_MAX_AGE_DAYS},
        status=410,
    )


def _appointment_context(appointment: Appointment, *, state: LinkState) -> dict[str, Any]:
    """What a self-service page shows: the patient's first name and the appointment, no more.

    An outdated link (the appointment moved since it was sent) shows neither the time nor the
    practitioner: the page says only that the link is out of date and how to reach us.
    """
    if state == LinkState.OUTDATED:
        return {
            "given_name": appointment.patient.given_name,
            "treatment": appointment.treatment_type.name,
            "appointment": None,
        }
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
    done: Any,
    extra: Any = None,
) -> HttpResponse:
    now = timezone.now()
    try:
        linked = selfservice.open_appointment_link(token, purpose=purpose, now=now)
    except LinkInvalid:
        return _link_not_working(request)
    except LinkExpired:
        return _expired(request)
    error = ""
    if request.method == "POST":
        try:
            changed = act(linked=linked, request=request, now=now)
        except DomainError as problem:
            error = problem.message
        else:
            # ``done`` words what happened from the changed appointment (a str or a callable).
            text = done(changed, now) if callable(done) else done
            messages.success(request, text, extra_tags=f"selfservice-{purpose}")
            return redirect(request.path)
    context = {
        **_appointment_context(linked.appointment, state=linked.state),
        "state": linked.state,
        "states": LINK_STATES,
        "error": error,
        "just_done": _just_done(request, purpose),
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
        done=lambda cancelled, now: (
            "Your appointment is cancelled."
            + (
                " We will email you a note of it."
                if reminders.notice_expected(cancelled, now=now)
                else ""
            )
        ),
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
            {"label": long_date(day.day), "day": day.day, "times": day.times} for day in week.days
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
    def move(*, linked: Any, request: HttpRequest, now: dt.datetime) -> Appointment:
        return selfservice.patient_reschedule(
            linked=linked, slot=request.POST.get("slot", ""), now=now
        )

    def moved(appointment: Appointment, now: dt.datetime) -> str:
        email = (
            " We will email you the new details."
            if reminders.notice_expected(appointment, now=now)
            else ""
        )
        when = reminders.local_when(appointment.starts_at)
        return f"Done: your appointment is now on {when}.{email}"

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
        done=moved,
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
        return _link_not_working(request)
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
        "window_first": long_date(linked.window_first_day) if linked.window_first_day else "",
        "window_last": long_date(linked.window_last_day) if linked.window_last_day else "",
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
@require_http_methods(PUBLIC_METHODS)
def rebook(request: HttpRequest, token: str) -> HttpResponse:
    """The clinic cancelled the appointment (closed that day, practitioner off): pick a new
    time for the same treatment."""
    now = timezone.now()
    try:
        linked = selfservice.open_rebook_link(token, now=now)
    except LinkInvalid:
        return _link_not_working(request)
    except LinkExpired:
        return _expired(request)
    error = ""
    if request.method == "POST":
        try:
            selfservice.patient_rebook(linked=linked, slot=request.POST.get("slot", ""), now=now)
        except DomainError as problem:
            error = problem.message
        else:
            messages.success(
                request, "Done: your new time is booked. We will email you the details."
            )
            return redirect(request.path)
    context = {
        **_appointment_context(linked.appointment, state=linked.state),
        "state": linked.state,
        "states": LINK_STATES,
        "error": error,
        "new_when": reminders.local_when(linked.new_booking.starts_at)
        if linked.new_booking
        else "",
        **_offered(
            request, selfservice.rebook_options(linked, now=now, page_from=_page_from(request))
        ),
    }
    return render(request, "bookings/public_rebook.html", context)


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
        return _link_not_working(request)
    except LinkExpired:
        return _expired(request)
    if request.method == "POST":
        if request.POST.get("action") == "subscribe":
            selfservice.patient_subscribe_again(patient=patient)
            messages.success(request, "Welcome back: you will get our emails again.")
            return redirect(request.path)
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
