"""Patients' rights under the GDPR: access (export) and erasure.

``clinic`` imports neither ``treatments`` nor ``bookings``; they register a provider from
their ``AppConfig.ready``::

    from clinic import privacy

    privacy.register_provider(privacy.PrivacyProvider(
        name="treatments", title="Treatments", export=export_fn, erase=erase_fn,
        retained_audit_types=("treatments.treatmentsession", ...),
    ))

``export(patient) -> dict`` returns JSON-ready data about the patient. ``erase(patient) ->
dict[str, int]`` anonymises what the app holds beyond clinical records and returns counts.
Clinical records are kept for ``CLINICAL_RETENTION_YEARS`` (a legal duty, GDPR art. 17(3)),
detached from the identity, which is what erasure removes. Audit entries about the patient
keep their who/when/what, but their before/after values are blanked unless their object
type is listed in ``retained_audit_types`` (clinical records).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinic import audit
from clinic.errors import DomainError
from clinic.models import AuditAction, AuditEntry, MessageStatus, OutboundMessage, Patient


class PrivacyError(DomainError):
    """A rights request that cannot be carried out; the message says why."""

    code = "privacy_request_refused"


@dataclass(frozen=True)
class PrivacyProvider:
    name: str
    title: str
    export: Callable[[Patient], dict[str, Any]]
    erase: Callable[[Patient], dict[str, int]] | None = None
    retained_audit_types: tuple[str, ...] = ()


_providers: dict[str, PrivacyProvider] = {}


def register_provider(provider: PrivacyProvider) -> None:
    """Registering a name again replaces the earlier provider (autoreload, tests)."""
    _providers[provider.name] = provider


def providers() -> list[PrivacyProvider]:
    return list(_providers.values())


PATIENT_EXPORT_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "email",
    "phone",
    "preferred_contact",
    "email_reminders",
    "followup_opt_out",
    "notes",
    "is_active",
    "created_at",
    "updated_at",
    "erased_at",
)


def _patient_details(patient: Patient) -> dict[str, Any]:
    values = {"id": patient.pk}
    values.update({name: getattr(patient, name) for name in PATIENT_EXPORT_FIELDS})
    return audit.to_primitive(values)


def _messages(patient: Patient) -> list[dict[str, Any]]:
    rows = OutboundMessage.objects.filter(patient=patient).order_by("due_at", "id")
    return audit.to_primitive(
        [
            {
                "id": message.pk,
                "kind": message.kind,
                "recipient": message.recipient,
                "subject": message.subject,
                "status": message.status,
                "due_at": message.due_at,
                "sent_at": message.sent_at,
                "body": message.body_text,
            }
            for message in rows
        ]
    )


def _access_log(patient: Patient) -> list[dict[str, Any]]:
    """Who used the record and when (the payloads stay in the audit trail)."""
    rows = AuditEntry.objects.filter(patient_id=patient.pk).order_by("at", "id")
    return audit.to_primitive(
        [
            {
                "at": entry.at,
                "action": entry.action,
                "by": entry.actor_username,
                "record": f"{entry.object_type} {entry.object_id}".strip(),
            }
            for entry in rows.only("at", "action", "actor_username", "object_type", "object_id")
        ]
    )


def patient_export(*, patient: Patient) -> dict[str, Any]:
    """Everything held about one patient, JSON-ready, with an audit entry for the export."""
    data: dict[str, Any] = {
        "exported_at": audit.to_primitive(timezone.now()),
        "clinic": settings.CLINIC_NAME,
        "patient": _patient_details(patient),
        "messages": _messages(patient),
    }
    for provider in providers():
        data[provider.name] = provider.export(patient)
    data["access_log"] = _access_log(patient)
    audit.record(action=AuditAction.EXPORT, obj=patient, detail="Subject access export")
    return data


def erased_birth_date(born: dt.date) -> dt.date:
    """Keep the year (age matters clinically), drop the day that helps identify."""
    return dt.date(born.year, 1, 1)


def patient_erase(*, patient_id: int) -> dict[str, int]:
    """Anonymise a patient's identity and message contents; keep clinical records.

    Invariant: afterwards the patient row holds no name, contact detail or free text, no
    message in the ledger names or quotes them, nothing further can be sent to them
    (no address, no consent, ``erased_at`` set, pending messages skipped), and the audit
    trail still verifies.
    """
    now = timezone.now()
    with transaction.atomic(durable=True):
        patient = Patient.objects.select_for_update().get(pk=patient_id)
        if patient.erased_at is not None:
            raise PrivacyError(f"Patient #{patient.pk} was already erased.")
        patient.given_name = "Erased patient"
        patient.family_name = f"#{patient.pk}"
        patient.date_of_birth = erased_birth_date(patient.date_of_birth)
        patient.email = ""
        patient.phone = ""
        patient.notes = ""
        patient.email_reminders = False
        patient.followup_opt_out = True
        patient.is_active = False
        patient.search_text = ""
        patient.erased_at = now
        patient.save()

        messages = OutboundMessage.objects.filter(patient=patient)
        counts = {
            "messages_skipped": messages.filter(
                status__in=[MessageStatus.PENDING, MessageStatus.SENDING]
            ).update(status=MessageStatus.SKIPPED, skip_reason="Patient data erased"),
            "messages_blanked": messages.update(
                recipient="",
                subject="",
                body_text="",
                body_html="",
                headers={},
                attachments=[],
                last_error="",
            ),
        }
        retained: set[str] = set()
        for provider in providers():
            retained.update(provider.retained_audit_types)
            if provider.erase is not None:
                for key, value in provider.erase(patient).items():
                    counts[f"{provider.name}_{key}"] = value
        counts["audit_payloads_redacted"] = (
            AuditEntry.objects.filter(patient_id=patient.pk, redacted_at__isnull=True)
            .exclude(object_type__in=retained)
            .exclude(before="", after="", detail="")
            ._redact_payloads(redacted_at=now)
        )
        # No before/after: the erase entry itself must not carry the identity it removed.
        audit.record(
            action=AuditAction.ERASE,
            obj=patient,
            detail="; ".join(f"{key}: {value}" for key, value in sorted(counts.items())),
        )
    return counts
