"""Treatment catalogue, skin assessments, series, sessions and aftercare notes."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, models
from django.db.models import F, Q

from clinic.formats import short_date
from clinic.limits import NOTES_MAX_LENGTH, REASON_MAX_LENGTH, TEMPLATE_MAX_LENGTH
from clinic.models import Patient, Practitioner, Room
from treatments.choices import (
    Fitzpatrick,
    Modality,
    Redness,
    ScarType,
    SeriesStatus,
    SkinType,
    Suitability,
)
from treatments.parameters import ParameterSpec, parse_schema
from treatments.rules import SpacingPolicy


class TreatmentType(models.Model):
    """A treatment the clinic offers, with its spacing rules and aftercare template.

    ``parameter_schema`` lists the session parameters the modality records, e.g.
    ``[{"name": "passes", "label": "Passes", "type": "int", "min": 1, "max": 3}]``.
    """

    name = models.CharField(max_length=120, unique=True)
    modality = models.CharField(max_length=20, choices=Modality.choices)
    description = models.TextField(blank=True, max_length=NOTES_MAX_LENGTH)
    default_duration_minutes = models.PositiveSmallIntegerField(default=30)
    extra_area_minutes = models.PositiveSmallIntegerField(
        default=15, help_text="Added per extra area (neck, chest, ...) beyond the face"
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        default=10, help_text="Cleanup time after each appointment"
    )
    min_interval_days = models.PositiveSmallIntegerField(default=14)
    max_interval_days = models.PositiveSmallIntegerField(default=28)
    maintenance_interval_days = models.PositiveSmallIntegerField(default=30)
    sessions_mild = models.PositiveSmallIntegerField(default=4)
    sessions_moderate = models.PositiveSmallIntegerField(default=6)
    sessions_severe = models.PositiveSmallIntegerField(default=8)
    parameter_schema = models.JSONField(default=list, blank=True)
    aftercare_template = models.TextField(blank=True, max_length=TEMPLATE_MAX_LENGTH)
    rooms = models.ManyToManyField(Room, blank=True, related_name="treatment_types")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_interval_days__gte=1)
                & Q(max_interval_days__gte=F("min_interval_days")),
                name="treatment_type_interval_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def parameter_specs(self) -> list[ParameterSpec]:
        """The checked parameter schema (``SchemaError`` if someone stored a broken one)."""
        return parse_schema(self.parameter_schema)

    @property
    def spacing_policy(self) -> SpacingPolicy:
        return SpacingPolicy(
            min_days=self.min_interval_days,
            max_days=self.max_interval_days,
            maintenance_days=self.maintenance_interval_days,
        )

    @property
    def sessions_by_severity(self) -> dict[str, int]:
        return {
            "mild": self.sessions_mild,
            "moderate": self.sessions_moderate,
            "severe": self.sessions_severe,
        }


class SignedRecordLocked(IntegrityError):
    """A bulk write tried to change or delete a signed clinical record (refused before the
    database trigger would refuse it, with a message that says why)."""


class SignedRecordQuerySet(models.QuerySet):
    """Bulk ``update()``/``delete()`` cannot touch signed rows (the last line before the
    database trigger): a signed record changes only through its amendment service, which
    writes a numbered amendment and moves ``amendment_count`` to it in the same transaction."""

    def update(self, **kwargs: object) -> int:
        if self.filter(signed_at__isnull=False).exists():
            raise SignedRecordLocked(
                "Signed clinical records cannot be changed in bulk; amend them one by one."
            )
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.filter(signed_at__isnull=False).exists():
            raise SignedRecordLocked("Signed clinical records cannot be deleted.")
        return super().delete()


class SkinAssessment(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="assessments")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="+")
    assessed_on = models.DateField()
    fitzpatrick = models.PositiveSmallIntegerField(choices=Fitzpatrick.choices)
    skin_type = models.CharField(max_length=20, choices=SkinType.choices)
    # {"dull_rough": "mild", "acne_scars": "severe"}
    concerns = models.JSONField(default=dict, blank=True)
    scar_type = models.CharField(max_length=20, choices=ScarType.choices, default=ScarType.NONE)
    # ["rosacea", "sun_exposure"]
    contraindications = models.JSONField(default=list, blank=True)
    surgery_on = models.DateField(null=True, blank=True)
    other_contraindication = models.CharField(max_length=200, blank=True)
    medications = models.TextField(blank=True, max_length=NOTES_MAX_LENGTH)
    allergies = models.TextField(blank=True, max_length=NOTES_MAX_LENGTH)
    notes = models.TextField(blank=True, max_length=NOTES_MAX_LENGTH)
    # The screening outcome at the time of recording (rules.screen_assessment).
    outcome = models.CharField(
        max_length=20, choices=Suitability.choices, default=Suitability.UNKNOWN
    )
    outcome_summary = models.CharField(max_length=300, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A signed assessment changes only together with an Amendment: the amendment service
    # writes amendment number count + 1 and moves this count to it in the same transaction;
    # a trigger (treatments.guards) refuses any other update of a signed row.
    amendment_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SignedRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-assessed_on", "-id"]
        indexes = [models.Index(fields=["patient", "-assessed_on"], name="assessment_latest_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True, signed_by__isnull=True)
                | Q(signed_at__isnull=False, signed_by__isnull=False),
                name="assessment_signed_by_whom",
            ),
            models.CheckConstraint(
                condition=Q(fitzpatrick__gte=1, fitzpatrick__lte=6),
                name="assessment_fitzpatrick_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Assessment of {self.patient} on {short_date(self.assessed_on)}"


class TreatmentSeries(models.Model):
    """A planned course of sessions of one treatment type for one patient."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="series")
    treatment_type = models.ForeignKey(TreatmentType, on_delete=models.PROTECT, related_name="+")
    planned_by = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(
        SkinAssessment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    targeted_concerns = models.JSONField(default=list, blank=True)
    planned_sessions = models.PositiveSmallIntegerField()
    start_on = models.DateField()
    status = models.CharField(
        max_length=20, choices=SeriesStatus.choices, default=SeriesStatus.PLANNED
    )
    stop_reason = models.CharField(max_length=300, blank=True)
    suitability_override_reason = models.TextField(blank=True, max_length=REASON_MAX_LENGTH)
    # The screening outcome when the series was planned ("suitable", "caution", ...).
    screening_outcome = models.CharField(
        max_length=20, choices=Suitability.choices, default=Suitability.UNKNOWN
    )
    # Denormalised by services when a session is signed, for the due list.
    last_session_on = models.DateField(null=True, blank=True)
    completed_sessions = models.PositiveSmallIntegerField(default=0)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_on", "-id"]
        verbose_name_plural = "treatment series"
        indexes = [
            models.Index(fields=["status", "last_session_on"], name="series_due_idx"),
            # Open series by planned start, for the due list (bookings.selectors.due_series):
            # a range reaches the ones planned to start recently; the rest holds the ones not
            # seen for months, counted from the index alone.
            models.Index(
                fields=["start_on", "last_session_on", "id"],
                condition=Q(status__in=(SeriesStatus.PLANNED, SeriesStatus.ACTIVE)),
                name="series_open_start_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_sessions__gte=1) & Q(planned_sessions__lte=30),
                name="series_planned_sessions_range",
            ),
            models.CheckConstraint(
                condition=~Q(status=SeriesStatus.STOPPED) | ~Q(stop_reason=""),
                name="series_stopped_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.treatment_type} for {self.patient}"


class TreatmentSession(models.Model):
    """What was done at one visit. Signed sessions are only ever amended."""

    series = models.ForeignKey(TreatmentSeries, on_delete=models.PROTECT, related_name="sessions")
    number = models.PositiveSmallIntegerField(help_text="Session k of the series")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="+")
    performed_at = models.DateTimeField()
    areas = models.JSONField(default=list)
    parameters = models.JSONField(default=dict, blank=True)
    duration_minutes = models.PositiveSmallIntegerField()
    redness = models.CharField(max_length=10, choices=Redness.choices, default=Redness.NONE)
    swelling = models.BooleanField(default=False)
    other_response = models.CharField(max_length=300, blank=True)
    comfort = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Patient comfort, 1 (painful) to 5 (comfortable)"
    )
    notes = models.TextField(blank=True, max_length=NOTES_MAX_LENGTH)
    aftercare_additions = models.TextField(
        blank=True,
        max_length=NOTES_MAX_LENGTH,
        help_text="Added to the treatment type's aftercare template when signed",
    )
    is_maintenance = models.BooleanField(default=False)
    overdue = models.BooleanField(default=False)
    spacing_override_reason = models.TextField(blank=True, max_length=REASON_MAX_LENGTH)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A signed row may only change together with an Amendment; the service writes amendment
    # number count + 1 and moves this count to it in the same transaction, and a database
    # trigger (treatments.guards) refuses any other update of a signed row.
    amendment_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SignedRecordQuerySet.as_manager()

    class Meta:
        ordering = ["series", "number"]
        constraints = [
            models.UniqueConstraint(fields=["series", "number"], name="session_number_unique"),
            models.UniqueConstraint(
                fields=["series"],
                condition=Q(signed_at__isnull=True),
                name="session_one_draft_per_series",
            ),
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True, signed_by__isnull=True)
                | Q(signed_at__isnull=False, signed_by__isnull=False),
                name="session_signed_by_whom",
            ),
            models.CheckConstraint(
                condition=Q(comfort__isnull=True) | Q(comfort__gte=1, comfort__lte=5),
                name="session_comfort_range",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1), name="session_duration_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.number} of {self.series}"


class AftercareStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    NOT_SENT = "not_sent", "Not sent (no email consent)"


class AftercareNote(models.Model):
    """Built when a session is signed, from the template plus the practitioner's words."""

    session = models.OneToOneField(
        TreatmentSession, on_delete=models.PROTECT, related_name="aftercare_note"
    )
    template_text = models.TextField()
    practitioner_additions = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=AftercareStatus.choices, default=AftercareStatus.PENDING
    )
    # Set when a sender claims the note (pending -> sending), so a crashed send can be retried.
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="aftercare_status_idx")]

    def __str__(self) -> str:
        return f"Aftercare for {self.session}"

    @property
    def body(self) -> str:
        if self.practitioner_additions.strip():
            return f"{self.template_text.rstrip()}\n\n{self.practitioner_additions.strip()}"
        return self.template_text


class Amendment(models.Model):
    """A change to a signed clinical record: who, when, why, and before/after values."""

    assessment = models.ForeignKey(
        SkinAssessment, on_delete=models.PROTECT, null=True, blank=True, related_name="amendments"
    )
    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, null=True, blank=True, related_name="amendments"
    )
    amended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    amended_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(max_length=REASON_MAX_LENGTH)
    changes = models.JSONField(help_text='{"field": {"before": ..., "after": ...}}')
    # The record's amendment number (1, 2, ...): the database lets a signed row change only
    # when its amendment_count moves to the number of an amendment written for it first.
    sequence = models.PositiveSmallIntegerField(editable=False)
    # PostgreSQL only, set by a trigger whatever the writer sends: the transaction that wrote
    # this row, so the amendment and the change it explains are one write (treatments.guards).
    written_in_transaction = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["amended_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "sequence"], name="amendment_sequence_per_session"
            ),
            models.UniqueConstraint(
                fields=["assessment", "sequence"], name="amendment_sequence_per_assessment"
            ),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="amendment_sequence_from_1"),
            models.CheckConstraint(
                condition=(Q(assessment__isnull=False) & Q(session__isnull=True))
                | (Q(assessment__isnull=True) & Q(session__isnull=False)),
                name="amendment_has_one_record",
            ),
        ]

    def __str__(self) -> str:
        return f"Amendment by {self.amended_by} on {short_date(self.amended_at)}"
