"""Small helpers the catalogue, series and session pages share."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from clinic.models import Patient, Practitioner
from treatments.models import TreatmentSeries

PAGE_SIZE = 25


def paginate(request: HttpRequest, items: Any, *, per_page: int = PAGE_SIZE) -> Page:
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def patient_page_url(patient: Patient) -> str | None:
    """The patient page, once the patients pages exist (they live in the clinic app)."""
    try:
        return reverse("clinic:patient_detail", args=[patient.pk])
    except NoReverseMatch:
        return None


def series_booking_url(series: TreatmentSeries) -> str | None:
    """The bookings app's "book the rest of the series" page, reached by URL name: treatments
    does not import bookings."""
    try:
        return reverse("bookings:series_book_rest", args=[series.pk])
    except NoReverseMatch:
        return None


def own_practitioner(user: Any) -> Practitioner | None:
    """The practitioner profile of the signed-in user, if they have one."""
    practitioner = getattr(user, "practitioner", None)
    return practitioner if practitioner is not None and practitioner.is_active else None
