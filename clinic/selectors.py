"""Shared reads for the clinic app, each a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.utils.functional import cached_property

from clinic.models import MessageStatus, OutboundMessage, Patient, normalise_for_search
from clinic.timeline import TimelineEntry


def staff_list() -> QuerySet:
    """Staff users with their role groups: two queries however many users there are."""
    return (
        get_user_model()
        .objects.order_by("-is_active", "last_name", "first_name", "username")
        .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name")))
    )


# --------------------------------------------------------------------------------------------
# Patients
# --------------------------------------------------------------------------------------------

# Digits with the separators people type in phone numbers: "+44 (0)7700 900-123".
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]+$")
MIN_SEARCH_CHARACTERS = 2
MIN_PHONE_DIGITS = 3


class PatientStatus(models.TextChoices):
    ACTIVE = "active", "Active patients"
    ARCHIVED = "archived", "Archived patients"
    ALL = "all", "All patients"


@dataclass(frozen=True)
class PatientQuery:
    """What a search box entry means: the fragments ``search_text`` must all contain.

    Fragments of three or more characters match anywhere ("yemi" finds Adeyemi). Shorter
    words match the start of a word (" ng" finds Ng, not Tsang): that keeps "ng" useful and,
    on PostgreSQL, still gives the trigram index something to use. Phone-like entries become
    one digit string, so "07700 900-123" finds +447700900123.
    """

    text: str
    fragments: tuple[str, ...]
    too_short: bool = False

    @property
    def is_blank(self) -> bool:
        return not self.text


def parse_patient_query(raw: str) -> PatientQuery:
    text = normalise_for_search(raw or "")
    if not text:
        return PatientQuery(text="", fragments=())
    if _PHONE_LIKE.match(text):
        digits = "".join(ch for ch in text if ch.isdigit())
        if digits.startswith("00"):  # "0044 7700 ..." dialled from abroad
            digits = digits[2:]
        return PatientQuery(
            text=text, fragments=(digits,), too_short=len(digits) < MIN_PHONE_DIGITS
        )
    words = text.split()
    fragments = tuple(word if len(word) >= 3 else f" {word}" for word in words)
    too_short = max(len(word) for word in words) < MIN_SEARCH_CHARACTERS
    return PatientQuery(text=text, fragments=fragments, too_short=too_short)


NAME_ORDER = ("family_name", "given_name", "id")
# Up to this many matches, sort the matches themselves; beyond it, walk the name index.
SORT_MATCHES_UP_TO = 5000


def patient_matches(
    *, query: PatientQuery, status: str = PatientStatus.ACTIVE
) -> QuerySet[Patient]:
    """Patients matching the search, unordered (see :func:`patient_list` for the order).

    ``search_text`` is already lower-case and accent-free, so a plain ``contains`` (``LIKE``)
    is case- and accent-insensitive here, and on PostgreSQL it is answered from the
    ``gin_trgm_ops`` index (``icontains`` would wrap the column in ``UPPER()`` and miss it).
    Every column the list shows lives on the patient row: no per-row queries.
    """
    patients = Patient.objects.defer("notes", "search_text")
    if status == PatientStatus.ACTIVE:
        patients = patients.filter(is_active=True)
    elif status == PatientStatus.ARCHIVED:
        patients = patients.filter(is_active=False)
    if query.too_short:
        return patients.none()
    for fragment in query.fragments:
        patients = patients.filter(search_text__contains=fragment)
    return patients


def patient_list(
    *, query: PatientQuery, status: str = PatientStatus.ACTIVE, matches: int | None = None
) -> QuerySet[Patient]:
    """Matching patients in name order, one query.

    How PostgreSQL should find the first page depends on how many patients match, which
    the pager counts first anyway (pass it as ``matches``). Few matches (a name, a phone
    number): fetch them through the trigram index and sort them, ordering by an expression
    no index provides; ordered by the name index instead, the planner would walk it hoping
    to meet 25 matches early and read half the table for "martinez". Many matches ("ma",
    blank): walk the name index, which meets 25 matches almost at once.
    """
    patients = patient_matches(query=query, status=status)
    if not query.fragments or (matches is not None and matches > SORT_MATCHES_UP_TO):
        return patients.order_by(*NAME_ORDER)
    return patients.order_by(Lower("family_name"), Lower("given_name"), "id")


class _CountedPaginator(Paginator):
    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def patient_page(*, query: PatientQuery, status: str, page_number: Any, per_page: int = 25) -> Page:
    """One page of the patient list: a COUNT, then the page (two queries)."""
    matches = patient_matches(query=query, status=status).count()
    patients = patient_list(query=query, status=status, matches=matches)
    return _CountedPaginator(patients, per_page, count=matches).get_page(page_number)


@dataclass(frozen=True)
class PossibleDuplicate:
    patient: Patient
    reasons: tuple[str, ...]


def possible_duplicates(
    *,
    given_name: str,
    family_name: str,
    date_of_birth: dt.date,
    email: str,
    exclude_pk: int | None = None,
) -> list[PossibleDuplicate]:
    """Existing patients (archived ones too) with the same email, or the same name and date of
    birth ignoring case and accents. One query, on the email and date-of-birth indexes."""
    email = email.strip().lower()
    name = normalise_for_search(given_name, family_name)
    # search_text starts with " <normalised given> <normalised family> ".
    same_person = Q(date_of_birth=date_of_birth, search_text__startswith=f" {name} ")
    candidates = Patient.objects.filter(same_person | Q(email=email) if email else same_person)
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    found = []
    for candidate in candidates.order_by("family_name", "given_name", "id"):
        reasons = []
        if email and candidate.email == email:
            reasons.append("same email")
        if candidate.date_of_birth == date_of_birth and candidate.search_text.startswith(
            f" {name} "
        ):
            reasons.append("same name and date of birth")
        found.append(PossibleDuplicate(patient=candidate, reasons=tuple(reasons)))
    return found


# Messages that left (or were refused) show on the patient's timeline; pending ones do not.
TIMELINE_MESSAGE_STATUSES = (MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.SKIPPED)
MESSAGE_TONES = {
    MessageStatus.SENT: "secondary",
    MessageStatus.FAILED: "danger",
    MessageStatus.SKIPPED: "secondary",
}


def message_timeline_entries(patient: Patient) -> list[TimelineEntry]:
    """Emails sent to the patient (and ones that failed or were not sent). One query."""
    entries = []
    ledger = OutboundMessage.objects.filter(
        patient_id=patient.pk, status__in=TIMELINE_MESSAGE_STATUSES
    ).only("kind", "status", "subject", "recipient", "skip_reason", "due_at", "sent_at")
    for message in ledger:
        kind = message.get_kind_display()
        if message.status == MessageStatus.SENT:
            title = f"{kind} email sent"
            detail = f"“{message.subject}” to {message.recipient}"
        elif message.status == MessageStatus.FAILED:
            title = f"{kind} email could not be sent"
            detail = f"“{message.subject}” to {message.recipient}"
        else:
            title = f"{kind} email not sent"
            detail = message.skip_reason
        entries.append(
            TimelineEntry(
                at=message.sent_at or message.due_at,
                kind="message",
                title=title,
                detail=detail,
                tone=MESSAGE_TONES[message.status],
            )
        )
    return entries
