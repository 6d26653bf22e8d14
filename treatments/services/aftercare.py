"""The hand-over point for whoever emails aftercare notes (the reminders work).

A note is created ``pending`` when its session is signed (``not_sent`` if the patient has no
email address). A sender:

1. lists candidates with :func:`treatments.selectors_series.aftercare_notes_to_send`,
2. claims one with :func:`aftercare_claim` (``pending -> sending``; a claim is a single
   conditional UPDATE, so of two workers racing only one gets the note),
3. sends it, then calls :func:`aftercare_mark_sent`, or :func:`aftercare_mark_not_sent` when
   it decides not to send (no consent), or :func:`aftercare_release` to hand a failed attempt
   back for a retry.

A claim older than ``stale_after`` (a worker died mid-send) can be claimed again; the outbound
message ledger's idempotency key is what makes the email itself go out at most once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from clinic import audit
from clinic.models import AuditAction
from treatments.models import AftercareNote, AftercareStatus

DEFAULT_STALE_CLAIM = timedelta(minutes=15)


@transaction.atomic
def aftercare_claim(
    *, note_id: int, now: datetime, stale_after: timedelta = DEFAULT_STALE_CLAIM
) -> AftercareNote | None:
    """Claim a note for sending; ``None`` if it is gone, already sent or someone else has it."""
    claimable = Q(status=AftercareStatus.PENDING) | Q(
        status=AftercareStatus.SENDING, claimed_at__lt=now - stale_after
    )
    claimed = AftercareNote.objects.filter(claimable, pk=note_id).update(
        status=AftercareStatus.SENDING, claimed_at=now
    )
    if not claimed:
        return None
    return AftercareNote.objects.select_related(
        "session__series__patient", "session__series__treatment_type"
    ).get(pk=note_id)


@transaction.atomic
def aftercare_mark_sent(*, note: AftercareNote, now: datetime) -> bool:
    """Record that the note went out. False if the note was not claimed for sending."""
    changed = bool(
        AftercareNote.objects.filter(pk=note.pk, status=AftercareStatus.SENDING).update(
            status=AftercareStatus.SENT, sent_at=now
        )
    )
    if changed:
        _audit_status(note, before=AftercareStatus.SENDING, after=AftercareStatus.SENT)
    return changed


def _audit_status(note: AftercareNote, *, before: str, after: str) -> None:
    audit.record(
        action=AuditAction.CHANGE,
        obj=note,
        patient_id=note.session.series.patient_id,
        before={"status": before},
        after={"status": after},
    )


@transaction.atomic
def aftercare_mark_not_sent(*, note: AftercareNote) -> bool:
    """Record that the note will not be emailed (no consent or no address)."""
    changed = bool(
        AftercareNote.objects.filter(
            pk=note.pk, status__in=(AftercareStatus.PENDING, AftercareStatus.SENDING)
        ).update(status=AftercareStatus.NOT_SENT, claimed_at=None)
    )
    if changed:
        _audit_status(note, before=note.status, after=AftercareStatus.NOT_SENT)
    return changed


@transaction.atomic
def aftercare_release(*, note: AftercareNote) -> bool:
    """Hand a claimed note back (a send failed and will be retried later)."""
    return bool(
        AftercareNote.objects.filter(pk=note.pk, status=AftercareStatus.SENDING).update(
            status=AftercareStatus.PENDING, claimed_at=None
        )
    )
