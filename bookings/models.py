"""Appointments and their history, practitioners' working hours and time off, booking settings
and API tokens.

Overlaps are impossible at two levels: services lock and check before they insert, and on
PostgreSQL exclusion constraints (migration ``0005_appointment_exclusion_constraints``) refuse
two active appointments whose occupied times ``[starts_at, blocked_until)`` overlap for the same
practitioner or room, or whose times ``[starts_at, ends_at)`` overlap for the same patient.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from bookings.choices import AppointmentStatus
from clinic.formats import short_datetime
from clinic.limits import NOTES_MAX_LENGTH, REASON_MAX_LENGTH
from clinic.models import Patient, Practitioner, Room, Weekday
from treatments.models import TreatmentSeries, TreatmentSession, TreatmentType


class WorkingHours(models.Model):
    """A practitioner's working hours on a weekday, with an optional break (local time)."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts_at = models.TimeField()
    ends_at = models.TimeField()
    break_starts_at = models.TimeField(null=True, blank=True)
    break_ends_at = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["practitioner", "weekday", "starts_at"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="working_hours_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(break_starts_at__isnull=True, break_ends_at__isnull=True)
                | Q(
                    break_starts_at__gte=F("starts_at"),
                    break_ends_at__gt=F("break_starts_at"),
                    break_ends_at__lte=F("ends_at"),
                ),
                name="working_hours_break_inside_hours",
            ),
            models.UniqueConstraint(
                fields=["practitioner", "weekday"], name="working_hours_one_row_per_weekday"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.practitioner}: {self.get_weekday_display()} "
            f"{self.starts_at:%H:%M}-{self.ends_at:%H:%M}"
        )


class TimeOff(models.Model):
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="time_off"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="time_off_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        starts, ends = short_datetime(self.starts_at), short_datetime(self.ends_at)
        return f"{self.practitioner} off {starts} to {ends}"


ACTIVE_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.CHECKED_IN,
)
# A series session number is taken while its appointment is active or completed.
SESSION_HOLDING_STATUSES = (*ACTIVE_STATUSES, AppointmentStatus.COMPLETED)


class Appointment(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="appointments"
    )
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="appointments")
    treatment_type = models.ForeignKey(TreatmentType, on_delete=models.PROTECT, related_name="+")
    series = models.ForeignKey(
        TreatmentSeries,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
    )
    series_session_number = models.PositiveSmallIntegerField(null=True, blank=True)
    treatment_session = models.OneToOneField(
        TreatmentSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointment",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # ends_at plus the treatment type's cleanup buffer: the practitioner and the room are
    # occupied over [starts_at, blocked_until); the patient only over [starts_at, ends_at).
    blocked_until = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    cancellation_reason = models.CharField(max_length=300, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    notes = models.TextField(blank=True, max_length=NOTES_MAX_LENGTH)
    # Series flags recorded when the session was booked or moved.
    overdue = models.BooleanField(
        default=False, help_text="Booked later than the series window allows"
    )
    spacing_override_reason = models.TextField(blank=True, max_length=REASON_MAX_LENGTH)
    suitability_override_reason = models.TextField(blank=True, max_length=REASON_MAX_LENGTH)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["starts_at"], name="appointment_start_idx"),
            models.Index(fields=["practitioner", "starts_at"], name="appointment_pract_start_idx"),
            models.Index(fields=["patient", "starts_at"], name="appointment_patient_start_idx"),
            models.Index(fields=["room", "starts_at"], name="appointment_room_start_idx"),
            models.Index(fields=["series", "status"], name="appointment_series_status_idx"),
            # Series visited since a day (the due list's "lapsed" cutoff), found by time.
            models.Index(
                fields=["starts_at", "series"],
                condition=Q(series__isnull=False, status__in=SESSION_HOLDING_STATUSES),
                name="appointment_series_visit_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(blocked_until__gte=F("ends_at")),
                name="appointment_blocked_after_end",
            ),
            # A session number only means something inside a series.
            models.CheckConstraint(
                condition=Q(series_session_number__isnull=True)
                | Q(series__isnull=False, series_session_number__gte=1),
                name="appointment_session_number_needs_series",
            ),
            # One appointment per session of a series (cancelled and no-show ones free it).
            models.UniqueConstraint(
                fields=["series", "series_session_number"],
                condition=Q(status__in=SESSION_HOLDING_STATUSES),
                name="appointment_one_per_series_session",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} with {self.practitioner}, {short_datetime(self.starts_at)}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class AppointmentChangeKind(models.TextChoices):
    BOOKED = "booked", "Booked"
    RESCHEDULED = "rescheduled", "Rescheduled"
    CANCELLED = "cancelled", "Cancelled"
    STATUS = "status", "Status changed"


class AppointmentChange(models.Model):
    """The history of an appointment: every booking, move, cancellation and status change.

    A reschedule keeps the old time, practitioner and room here, so nothing is lost when an
    appointment moves. ``changed_by`` is empty when the patient acted through an email link.
    """

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=12, choices=AppointmentChangeKind.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField()
    from_status = models.CharField(max_length=12, choices=AppointmentStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=AppointmentStatus.choices, blank=True)
    from_starts_at = models.DateTimeField(null=True, blank=True)
    to_starts_at = models.DateTimeField(null=True, blank=True)
    from_practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_room = models.ForeignKey(
        Room, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_room = models.ForeignKey(
        Room, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}, {short_datetime(self.changed_at)}"


class BookingSettings(models.Model):
    """The clinic's booking rules that managers edit in the app (a single row, ``pk=1``)."""

    minimum_notice_minutes = models.PositiveIntegerField(
        default=60,
        help_text="How long before its start an appointment can still be booked or moved to.",
    )
    horizon_days = models.PositiveSmallIntegerField(
        default=180, help_text="How far ahead appointments can be booked, in days."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "booking settings"
        verbose_name_plural = "booking settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="booking_settings_single_row"),
            models.CheckConstraint(
                condition=Q(horizon_days__gte=1), name="booking_settings_horizon_positive"
            ),
        ]

    def __str__(self) -> str:
        return "Booking settings"

    @classmethod
    def load(cls) -> BookingSettings:
        """The settings row, created with the defaults the first time it is asked for."""
        settings_row, _ = cls.objects.get_or_create(pk=1)
        return settings_row


class ScheduleVersion(models.Model):
    """One row whose token changes after every committed change to what a calendar shows.

    The calendars keep their rendered grid under this token (``bookings.calendar_cache``):
    a new token means no page rendered before the change is served again. A random token,
    not a counter, so a database restored from a backup can never meet a grid cached for
    another database state under the same value.
    """

    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.token


class ApiToken(models.Model):
    """A bearer token for the booking API. Only a SHA-256 hash of the token is stored.

    The first characters (``prefix``) are kept in clear so staff can tell tokens apart in
    lists; the whole token is shown once, when it is issued.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=80, blank=True, help_text="What the token is for")
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class NoticeTold(models.TextChoices):
    NOTHING = "", "Nothing yet"
    BOOKED = "booked", "Booked"
    CANCELLED = "cancelled", "Cancelled"


class AppointmentNotice(models.Model):
    """What the patient was last told about an appointment, for the booking notices.

    ``bookings.notifications.appointment_changed`` bumps ``version`` on every booking, move and
    cancellation; the notice sweep (``bookings.reminders``) waits until nothing has changed for
    the grace period, compares the appointment with what the patient was told and sends one
    confirmation, move or cancellation notice for the final state (or nothing, when it is back
    where it was), then records ``settled_version``.
    """

    appointment = models.OneToOneField(
        Appointment, on_delete=models.CASCADE, primary_key=True, related_name="notice"
    )
    version = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField()
    settled_version = models.PositiveIntegerField(default=0)
    told = models.CharField(max_length=10, choices=NoticeTold.choices, blank=True)
    told_starts_at = models.DateTimeField(null=True, blank=True)
    told_practitioner = models.ForeignKey(
        Practitioner, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["changed_at"], name="appointment_notice_changed_idx")]

    def __str__(self) -> str:
        return f"Notices for appointment {self.appointment_id} (v{self.version})"
