"""Reads for the outbox page: a fixed number of queries."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from clinic import clock
from clinic.models import OutboundMessage, normalise_for_search

# The rendered bodies can be long; list pages never need them.
LIST_DEFERRED = ("body_text", "body_html", "attachments", "headers")


def outbox_messages(
    *,
    kind: str = "",
    status: str = "",
    patient: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[OutboundMessage]:
    """Messages newest first, filtered; dates are clinic-local days of ``due_at`` (when the
    message was, or is, to go). ``patient`` matches a patient number, name or address."""
    messages = OutboundMessage.objects.select_related("patient").defer(*LIST_DEFERRED)
    if kind:
        messages = messages.filter(kind=kind)
    if status:
        messages = messages.filter(status=status)
    if patient:
        if patient.lstrip("#").isdigit():
            messages = messages.filter(patient_id=int(patient.lstrip("#")))
        else:
            words = normalise_for_search(patient).split()
            condition = Q(recipient__icontains=patient)
            name_match = Q()
            for word in words:
                name_match &= Q(patient__search_text__contains=word)
            messages = messages.filter(condition | name_match)
    if date_from:
        messages = messages.filter(due_at__gte=clock.start_of_day(date_from))
    if date_to:
        messages = messages.filter(due_at__lt=clock.start_of_day(date_to + dt.timedelta(days=1)))
    return messages.order_by("-due_at", "-id")
