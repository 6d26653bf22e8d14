"""Shared reads for the clinic app, each a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.paginator import Paginator
from django.db import connection, models
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Lower

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


# The list's order: family name, given name, id, ignoring case. ``patient_name_sort_idx`` holds
# exactly these keys, so walking it yields patients in list order.
NAME_ORDER = (Lower("family_name"), Lower("given_name"), "id")
# A typed search first walks this many patients (per page asked for) in name order: if they hold
# the page and one more match, that is the answer. Matches spread through the alphabet ("ma", a
# given name like "siobhan", a phone prefix) are met early; a family name ("okafor") sits in one
# stretch of it, usually further on, and is sorted instead. On PostgreSQL the walk reads only the
# index (about 1 ms for 4,000 rows on the benchmark machine), the same on any size of clinic.
SEARCH_WALK_ROWS = 4000
# Page numbers beyond this are treated as past the end (no one pages that far; it keeps the
# OFFSET and the walk window within what every database accepts).
MAX_PAGE_NUMBER = 100_000


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


def patient_list(*, query: PatientQuery, status: str = PatientStatus.ACTIVE) -> QuerySet[Patient]:
    """All matching patients in name order (the API's search), one query.

    The matches are fetched through the trigram index and sorted. ``NULLS FIRST`` changes
    nothing (the names are never NULL) but keeps PostgreSQL from walking the name index
    instead, hoping to meet the first rows early: for "okafor" that walk reads half the
    table. :func:`patient_search_page` chooses between the two plans safely.
    """
    patients = patient_matches(query=query, status=status)
    if query.is_blank:
        return patients.order_by(*NAME_ORDER)
    return patients.order_by(
        Lower("family_name").asc(nulls_first=True),
        Lower("given_name").asc(nulls_first=True),
        "id",
    )


@dataclass(frozen=True)
class PatientPage:
    """One page of the patient list.

    A typed search does not count its matches: it knows whether more follow (it fetched one
    row more than the page) and its total only once the last page is reached. Browsing the
    whole list (nothing typed) counts it.
    """

    patients: list[Patient]
    number: int
    per_page: int
    has_next: bool
    total: int | None = None

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def start_index(self) -> int:
        """1-based position of the first patient shown (0 when none is)."""
        return (self.number - 1) * self.per_page + 1 if self.patients else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.patients)

    @property
    def past_the_end(self) -> bool:
        """A later page was asked for than the matches fill (an old link, a typed URL)."""
        return self.number > 1 and not self.patients


def parse_page_number(raw: Any) -> int:
    """The page asked for, as a number from 1: anything else is the first page."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE_NUMBER)


def patient_page(
    *, query: PatientQuery, status: str, page_number: Any, per_page: int = 25
) -> PatientPage:
    """One page of the patient list: see :func:`patient_search_page` and
    :func:`patient_browse_page`. A search too short to run costs no query."""
    if query.too_short:
        return PatientPage(patients=[], number=1, per_page=per_page, has_next=False, total=0)
    if query.is_blank:
        return patient_browse_page(status=status, page_number=page_number, per_page=per_page)
    return patient_search_page(
        query=query, status=status, page_number=page_number, per_page=per_page
    )


def patient_browse_page(*, status: str, page_number: Any, per_page: int = 25) -> PatientPage:
    """The whole list, a page at a time: a COUNT and the page read from the name index (two
    queries). A page past the end shows the last one."""
    patients = patient_list(query=PatientQuery(text="", fragments=()), status=status)
    page = Paginator(patients, per_page).get_page(page_number)
    return PatientPage(
        patients=list(page.object_list),
        number=page.number,
        per_page=per_page,
        has_next=page.has_next(),
        total=page.paginator.count,
    )


# The two plans of a typed search, as one statement (PostgreSQL and SQLite).
#   walked: the first {window} patients in name order (patient_name_sort_idx), and among them
#     the first {wanted} matches. If there are that many, they hold the page.
#   matching: otherwise, every match (through the trigram index on PostgreSQL), sorted.
#     MATERIALIZED keeps PostgreSQL from turning "sort the matches, take 26" back into a walk
#     of the name index; it is only read when the walk fell short.
# {matches} is the WHERE clause of patient_matches(), compiled by Django, so both plans match
# exactly as the rest of the app does; it names the table "clinic_patient", hence the alias.
_SEARCH_PAGE_SQL = """
WITH walked AS (
    SELECT family_key, given_key, id
    FROM (
        SELECT lower(family_name) AS family_key, lower(given_name) AS given_key,
               id, is_active, search_text
        FROM clinic_patient
        ORDER BY family_key, given_key, id
        LIMIT {window}
    ) AS clinic_patient
    WHERE {matches}
    ORDER BY family_key, given_key, id
    LIMIT {wanted}
),
matching AS {materialized} (
    SELECT lower(family_name) AS family_key, lower(given_name) AS given_key, id
    FROM clinic_patient
    WHERE {matches}
),
page_ids AS (
    SELECT id FROM (
        SELECT id FROM walked ORDER BY family_key, given_key, id LIMIT {limit} OFFSET {offset}
    ) AS from_walk
    WHERE (SELECT count(*) FROM walked) = {wanted}
    UNION ALL
    SELECT id FROM (
        SELECT id FROM matching ORDER BY family_key, given_key, id LIMIT {limit} OFFSET {offset}
    ) AS from_sort
    WHERE (SELECT count(*) FROM walked) < {wanted}
)
SELECT {columns}
FROM clinic_patient
WHERE id IN (SELECT id FROM page_ids)
ORDER BY lower(family_name), lower(given_name), id
"""


def patient_search_page(
    *, query: PatientQuery, status: str, page_number: Any, per_page: int = 25
) -> PatientPage:
    """One page of a typed search (neither blank nor too short: see :func:`patient_page`) and
    whether more patients match: one query, no COUNT.

    It fetches the page and one row more. Which plan finds them fast depends on how many
    patients match, which is not counted (that would read every match): instead the
    statement first walks a bounded stretch of the name index (:data:`SEARCH_WALK_ROWS` rows
    per page) and keeps its matches if they fill the page and one more; otherwise it sorts all
    matches. Both plans give the same order (family name, given name, id, ignoring case).
    """
    number = parse_page_number(page_number)
    matches = patient_matches(query=query, status=status)
    compiler = matches.query.get_compiler(connection=connection)
    where_sql, where_params = compiler.compile(matches.query.where)
    columns = ", ".join(
        connection.ops.quote_name(field.column)
        for field in Patient._meta.concrete_fields
        if field.name not in {"notes", "search_text"}
    )
    offset = (number - 1) * per_page
    sql = _SEARCH_PAGE_SQL.format(
        window=SEARCH_WALK_ROWS * number,
        wanted=offset + per_page + 1,
        limit=per_page + 1,
        offset=offset,
        matches=where_sql,
        # PostgreSQL needs it (see above); SQLite has it from 3.35 but plans well without it.
        materialized="MATERIALIZED" if connection.vendor == "postgresql" else "",
        columns=columns,
    )
    found = list(Patient.objects.raw(sql, [*where_params, *where_params]))
    patients = found[:per_page]
    has_next = len(found) > per_page
    # With no more to come, the total is known: every earlier page was full.
    reached_the_end = not has_next and (patients or number == 1)
    total = offset + len(patients) if reached_the_end else None
    return PatientPage(
        patients=patients, number=number, per_page=per_page, has_next=has_next, total=total
    )


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
TIMELINE_MESSAGE_STATUSES = (
    MessageStatus.SENT,
    MessageStatus.FAILED,
    MessageStatus.SKIPPED,
    MessageStatus.EXPIRED,
)
MESSAGE_TONES: dict[str, str] = {
    MessageStatus.SENT: "secondary",
    MessageStatus.FAILED: "danger",
    MessageStatus.SKIPPED: "secondary",
    MessageStatus.EXPIRED: "danger",
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
        elif message.status == MessageStatus.EXPIRED:
            title = f"{kind} email not sent in time"
            detail = f"“{message.subject}”: the mail server could not take it while it mattered"
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
