"""The audit trail: who did what to which record, when and from where.

Services call ``record(action=..., obj=..., before=..., after=...)`` once per write, and
views of clinical records call ``record_view``. The request (user, IP address, user agent)
comes from ``AuditContextMiddleware`` through a context variable, so services need no
request argument; Celery tasks and commands name themselves with ``acting_as("...")``.

Tamper evidence: entries form a hash chain. Each stores ``prev_hash`` and
``hash = sha256(prev_hash + canonical JSON of the entry)``, where the entry includes a
digest of its before/after payload and a gap-free ``seq``. ``verify_chain`` recomputes it.

Writes join the chain at once, under one lock row. Views of records do not: reading a
record must not queue every request behind that lock, so ``record_view`` inserts the entry
without ``seq`` or hash, and ``seal_pending`` (a beat task every minute, and before every
verification) links pending entries into the chain in the order they were written. Until
then a view entry is in the trail but not yet covered by the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from clinic.models import AuditAction, AuditChainLock, AuditEntry, Patient

GENESIS_HASH = "0" * 64
USER_AGENT_LENGTH = 300

_current_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)
_current_actor: ContextVar[str | None] = ContextVar("audit_actor", default=None)


class AuditContextMiddleware:
    """Makes the current request available to ``record`` for the length of the request."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


@contextmanager
def acting_as(name: str) -> Iterator[None]:
    """Name the actor for writes made outside a request (``"task:reminders"``)."""
    token = _current_actor.set(name)
    try:
        yield
    finally:
        _current_actor.reset(token)


@contextmanager
def request_context(request: HttpRequest) -> Iterator[None]:
    """For code that has a request but runs outside the middleware (signals in tests)."""
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


def client_ip(request: HttpRequest) -> str:
    """The client's address, trusting X-Forwarded-For only as far as TRUSTED_PROXY_COUNT."""
    from clinic.security import client_ip_address

    return client_ip_address(request)[:45]


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    ip_address: str
    user_agent: str


def current_actor() -> Actor:
    request = _current_request.get()
    override = _current_actor.get()
    if request is None:
        return Actor(None, override or "system", "", "")
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        user_id, username = user.pk, user.get_username()
    else:
        user_id, username = None, override or "anonymous"
    return Actor(
        user_id,
        username[:150],
        client_ip(request),
        request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH],
    )


def to_primitive(value: Any) -> Any:
    """Dates, decimals and UUIDs become the strings JSON would carry."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The editable concrete field values of a row (foreign keys as ids), JSON-ready."""
    values: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if not field.editable or field.primary_key:
            continue
        if fields is not None and field.name not in fields:
            continue
        values[field.attname] = field.value_from_object(instance)
    return to_primitive(values)


def changed_values(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ between two snapshots."""
    before = to_primitive(dict(before or {}))
    after = to_primitive(dict(after or {}))
    if not before or not after:
        # Types: to_primitive of a dict is a dict.
        return before, after  # type: ignore[return-value]
    keys = sorted(set(before) | set(after))
    changed = [key for key in keys if before.get(key) != after.get(key)]
    return (
        {key: before[key] for key in changed if key in before},
        {key: after[key] for key in changed if key in after},
    )


def payload_digest(*, before: str, after: str, detail: str) -> str:
    text = canonical_json({"after": after, "before": before, "detail": detail})
    return hashlib.sha256(text.encode()).hexdigest()


def entry_hash(entry: AuditEntry) -> str:
    header = {
        "action": entry.action,
        "actor_id": entry.actor_id,
        "actor_username": entry.actor_username,
        "at": entry.at.astimezone(UTC).isoformat(),
        "ip_address": entry.ip_address,
        "object_id": entry.object_id,
        "object_type": entry.object_type,
        "patient_id": entry.patient_id,
        "payload_digest": entry.payload_digest,
        "seq": entry.seq,
        "user_agent": entry.user_agent,
    }
    return hashlib.sha256((entry.prev_hash + canonical_json(header)).encode()).hexdigest()


def _lock_chain() -> None:
    # Serialises appends: a second writer waits here, then reads the newest entry afresh.
    if AuditChainLock.objects.select_for_update().filter(pk=1).first() is None:
        AuditChainLock.objects.bulk_create([AuditChainLock(pk=1)], ignore_conflicts=True)
        AuditChainLock.objects.select_for_update().get(pk=1)


def record(
    *,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    patient_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    detail: str = "",
) -> AuditEntry | None:
    """Append one entry to the trail, in the caller's transaction.

    ``before``/``after`` are snapshots; only the fields that differ are kept. A change that
    changed nothing records nothing (returns ``None``).
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if object_id == "" else object_id
        if patient_id is None:
            patient_id = obj.pk if isinstance(obj, Patient) else getattr(obj, "patient_id", None)
    before_values, after_values = changed_values(before, after)
    if action == AuditAction.CHANGE and not before_values and not after_values:
        return None
    entry = _unchained_entry(
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        before_text=canonical_json(before_values) if before_values else "",
        after_text=canonical_json(after_values) if after_values else "",
        detail=detail,
    )
    with transaction.atomic(savepoint=False):
        _lock_chain()
        last = _chain_head()
        # Types: the chain head is sealed, so it has a seq.
        entry.seq = (last.seq + 1) if last else 1  # type: ignore[operator]
        entry.prev_hash = last.hash if last else GENESIS_HASH
        entry.hash = entry_hash(entry)
        entry.save(force_insert=True)
    return entry


def _unchained_entry(
    *,
    action: str,
    object_type: str,
    object_id: Any,
    patient_id: int | None,
    before_text: str,
    after_text: str,
    detail: str,
) -> AuditEntry:
    detail = detail[:300]
    actor = current_actor()
    return AuditEntry(
        at=timezone.now(),
        actor_id=actor.user_id,
        actor_username=actor.username,
        ip_address=actor.ip_address,
        user_agent=actor.user_agent,
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64] if object_id is not None else "",
        patient_id=patient_id,
        before=before_text,
        after=after_text,
        detail=detail,
        payload_digest=payload_digest(before=before_text, after=after_text, detail=detail),
    )


def _chain_head() -> AuditEntry | None:
    return AuditEntry.objects.filter(seq__isnull=False).order_by("-seq").only("seq", "hash").first()


def record_view(obj: models.Model, *, patient_id: int | None = None, detail: str = "") -> None:
    """Reading a clinical record is itself recorded, without waiting for the chain's lock.

    The entry is written at once (in the caller's transaction) and sealed into the chain
    later by :func:`seal_pending`, so concurrent readers never queue behind one row.
    """
    if patient_id is None:
        patient_id = obj.pk if isinstance(obj, Patient) else getattr(obj, "patient_id", None)
    _unchained_entry(
        action=AuditAction.VIEW,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        patient_id=patient_id,
        before_text="",
        after_text="",
        detail=detail,
    ).save(force_insert=True)


SEAL_BATCH = 2000


def seal_pending() -> int:
    """Link every pending (view) entry into the chain, oldest first; returns how many.

    Takes the chain's lock, like a write, so sealed entries and writes never fork the
    chain; safe to run twice or concurrently (the second run finds nothing pending).
    """
    sealed = 0
    while True:
        with transaction.atomic():
            _lock_chain()
            pending = list(AuditEntry.objects.filter(seq__isnull=True).order_by("id")[:SEAL_BATCH])
            if not pending:
                return sealed
            last = _chain_head()
            seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS_HASH)
            for entry in pending:
                # Types: the chain head is sealed, so it has a seq.
                seq += 1  # type: ignore[operator]
                entry.seq, entry.prev_hash = seq, prev_hash
                entry.hash = entry_hash(entry)
                AuditEntry.objects.filter(pk=entry.pk)._seal(
                    seq=entry.seq, prev_hash=entry.prev_hash, hash=entry.hash
                )
                prev_hash = entry.hash
            sealed += len(pending)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    count: int
    broken_seq: int | None = None
    broken_id: int | None = None
    reason: str = ""
    # View entries written but not sealed into the chain yet (see ``seal_pending``).
    pending: int = 0


def verify_chain() -> ChainReport:
    """Walk the trail in order; report the first entry whose link or content is wrong."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    chained = AuditEntry.objects.filter(seq__isnull=False).order_by("seq")
    for entry in chained.iterator(chunk_size=2000):
        problem = ""
        if entry.seq != expected_seq:
            problem = f"sequence jumps from {expected_seq - 1} to {entry.seq} (entries missing)"
        elif entry.prev_hash != expected_prev:
            problem = "prev_hash does not match the previous entry's hash"
        elif entry.hash != entry_hash(entry):
            problem = "hash does not match the entry's content"
        elif entry.redacted_at is None and entry.payload_digest != payload_digest(
            before=entry.before, after=entry.after, detail=entry.detail
        ):
            problem = "before/after values do not match their digest"
        elif entry.redacted_at is not None and (entry.before or entry.after or entry.detail):
            problem = "a redacted entry still carries a payload"
        if problem:
            return ChainReport(False, count, entry.seq, entry.pk, problem)
        count += 1
        expected_prev = entry.hash
        expected_seq += 1
    return ChainReport(True, count, pending=AuditEntry.objects.filter(seq__isnull=True).count())


def decoded(text: str) -> dict[str, Any]:
    """A stored before/after payload as a dict (empty when blank or redacted)."""
    return json.loads(text) if text else {}


def report_entries(
    *,
    patient_id: int | None = None,
    username: str = "",
    action: str = "",
    date_from: Any = None,
    date_to: Any = None,
) -> models.QuerySet[AuditEntry]:
    """The audit report's rows, newest first; dates are clinic-local calendar days."""
    import datetime as dt

    from clinic import clock

    # Newest first by time: a view waiting to be sealed sits among the writes of its moment.
    entries = AuditEntry.objects.order_by("-at", "-id")
    if patient_id is not None:
        entries = entries.filter(patient_id=patient_id)
    if username:
        entries = entries.filter(actor_username__iexact=username.strip())
    if action:
        entries = entries.filter(action=action)
    if date_from is not None:
        entries = entries.filter(at__gte=clock.start_of_day(date_from))
    if date_to is not None:
        entries = entries.filter(at__lt=clock.start_of_day(date_to + dt.timedelta(days=1)))
    return entries
