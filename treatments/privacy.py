"""What the treatments app holds about a patient, for GDPR export (``clinic.privacy``).

Clinical records (assessments, series, sessions, aftercare notes, amendments) are kept on
erasure for ``CLINICAL_RETENTION_YEARS``: erasure removes the identity on the patient row,
which leaves these rows without one. So this provider exports but does not erase, and asks
the audit trail to keep the before/after values about these records.
"""

from __future__ import annotations

from typing import Any

from clinic import audit
from clinic.models import Patient
from clinic.privacy import PrivacyProvider
from treatments.models import Amendment, SkinAssessment, TreatmentSeries, TreatmentSession

RETAINED_AUDIT_TYPES = (
    "treatments.skinassessment",
    "treatments.treatmentseries",
    "treatments.treatmentsession",
    "treatments.aftercarenote",
    "treatments.amendment",
)


def _row(instance: Any, **extra: Any) -> dict[str, Any]:
    return {"id": instance.pk, **audit.snapshot(instance), **audit.to_primitive(extra)}


def export_treatments(patient: Patient) -> dict[str, Any]:
    """Five queries however much history the patient has."""
    assessments = SkinAssessment.objects.filter(patient=patient).order_by("assessed_on", "id")
    series = TreatmentSeries.objects.filter(patient=patient).order_by("start_on", "id")
    sessions = (
        TreatmentSession.objects.filter(series__patient=patient)
        .select_related("aftercare_note")
        .order_by("series_id", "number")
    )
    amendments = Amendment.objects.filter(assessment__patient=patient) | Amendment.objects.filter(
        session__series__patient=patient
    )
    return {
        "assessments": [_row(item, signed_at=item.signed_at) for item in assessments],
        "series": [_row(item) for item in series],
        "sessions": [
            _row(
                item,
                signed_at=item.signed_at,
                aftercare_note=getattr(item, "aftercare_note", None) and item.aftercare_note.body,
            )
            for item in sessions
        ],
        "amendments": [
            _row(item, amended_at=item.amended_at) for item in amendments.order_by("amended_at")
        ],
    }


PROVIDER = PrivacyProvider(
    name="treatments",
    title="Assessments, series and sessions (kept on erasure: clinical records)",
    export=export_treatments,
    retained_audit_types=RETAINED_AUDIT_TYPES,
)
