"""The clinic's people and places, and the outbound-message ledger."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from clinic.choices import Suitability
from clinic.formats import short_date
from clinic.limits import NOTES_MAX_LENGTH
from clinic.phones import phone_search_forms

# Typographic apostrophes and dashes are typed as plain ones at the desk.
_PLAIN_PUNCTUATION = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2010": "-"})


def normalise_for_search(*parts: str) -> str:
    """Lower-case, accent-free text: "Zoë O'Brien" -> "zoe o'brien"."""
    text = " ".join(part for part in parts if part).translate(_PLAIN_PUNCTUATION)
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(folded.split())


def patient_search_text(
    *, given_name: str, family_name: str, email: str, phone: str, region: str
) -> str:
    """The denormalised text the patient search matches, built the same way on every write.

    " <given> <family> <extra words> ": it starts with the normalised full name (the
    duplicate check relies on that) and every word has a space before and after it, so
    " ng" finds a word that starts with "ng" (see ``clinic.selectors.parse_patient_query``).
    The extra words are the names without punctuation ("obrien" for O'Brien), the email,
    and the phone number in E.164 and as the digits of its international and national
    forms ("447700900123", "07700900123").
    """
    names = [normalise_for_search(given_name), normalise_for_search(family_name)]
    extra = ["".join(ch for ch in name if ch.isalnum()) for name in names]
    extra.append(normalise_for_search(email))
    if phone:
        extra.append(phone)
        extra.extend(phone_search_forms(phone, region=region))
    full_name = " ".join(name for name in names if name)
    extra_words = [
        word for word in dict.fromkeys(extra) if word and f" {word} " not in f" {full_name} "
    ]
    return f" {' '.join([full_name, *extra_words]).strip()} "


class Practitioner(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="practitioner",
    )
    display_name = models.CharField(max_length=120)
    title = models.CharField(max_length=120, blank=True, help_text="e.g. Aesthetic nurse")
    colour = models.CharField(
        max_length=7, default="#0d6efd", help_text="Calendar colour (#rrggbb)"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class Room(models.Model):
    name = models.CharField(max_length=80, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class OpeningHours(models.Model):
    """When the clinic is open on a weekday, in the clinic's local time."""

    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens_at = models.TimeField()
    closes_at = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens_at"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="opening_hours_closes_after_opens",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"


class ClinicClosure(models.Model):
    """A day the clinic is closed (bank holiday, training day)."""

    date = models.DateField(unique=True)
    reason = models.CharField(max_length=120)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{short_date(self.date)}: {self.reason}"


class PreferredContact(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone call"
    SMS = "sms", "Text message"


class PatientQuerySet(models.QuerySet):
    def active(self) -> PatientQuerySet:
        return self.filter(is_active=True)


class Patient(models.Model):
    given_name = models.CharField(max_length=80)
    family_name = models.CharField(max_length=80)
    date_of_birth = models.DateField()
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="Stored in E.164 form")
    preferred_contact = models.CharField(
        max_length=10, choices=PreferredContact.choices, default=PreferredContact.EMAIL
    )
    email_reminders = models.BooleanField("Consents to email reminders", default=False)
    followup_opt_out = models.BooleanField(
        "Opted out of follow-up and maintenance emails", default=False
    )
    notes = models.TextField(blank=True, max_length=NOTES_MAX_LENGTH)
    is_active = models.BooleanField("Active", default=True)
    # Set by clinic.privacy.patient_erase: identity anonymised, nothing is sent any more.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Denormalised lower-case, accent-free "given family email phone" for search.
    search_text = models.TextField(editable=False, default="")
    # The latest skin assessment's screening, denormalised by the assessment services in
    # ``treatments`` so lists show a badge without a query per row.
    suitability = models.CharField(
        max_length=20, choices=Suitability.choices, default=Suitability.UNKNOWN, editable=False
    )
    suitability_summary = models.CharField(max_length=300, blank=True, editable=False)
    suitability_reasons = models.JSONField(default=list, blank=True, editable=False)
    assessed_on = models.DateField("Last assessed on", null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        permissions = [("view_clinical_record", "Can see clinical detail of patients")]
        indexes = [
            models.Index(fields=["family_name", "given_name"], name="patient_name_idx"),
            models.Index(fields=["email"], name="patient_email_idx"),
            models.Index(fields=["date_of_birth"], name="patient_birth_date_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def refresh_search_text(self) -> None:
        self.search_text = patient_search_text(
            given_name=self.given_name,
            family_name=self.family_name,
            email=self.email,
            phone=self.phone,
            region=settings.CLINIC_PHONE_REGION,
        )

    def is_reassessment_due(self, today: dt.date) -> bool:
        """The badge's "reassessment due": the latest assessment is older than the setting.

        The same boundary as ``treatments.rules.reassessment_due`` (a test keeps them
        together); written here because the clinic app does not import treatments.
        """
        if self.assessed_on is None:
            return False
        return (today - self.assessed_on).days > settings.REASSESSMENT_AFTER_DAYS


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    # Not sent while it was worth sending (the mail server was down until the appointment
    # started, say); never sent afterwards.
    EXPIRED = "expired", "Expired"


class MessageKind(models.TextChoices):
    BOOKING_CONFIRMATION = "booking_confirmation", "Booking confirmation"
    BOOKING_RESCHEDULED = "booking_rescheduled", "Booking moved"
    BOOKING_CANCELLED = "booking_cancelled", "Booking cancelled"
    APPOINTMENT_REMINDER = "appointment_reminder", "Appointment reminder"
    AFTERCARE = "aftercare", "Aftercare"
    SERIES_FOLLOWUP = "series_followup", "Next-session follow-up"
    MAINTENANCE_REMINDER = "maintenance_reminder", "Maintenance reminder"
    CANCELLED_BY_CLINIC = "cancelled_by_clinic", "Cancelled by the clinic, pick a new time"


class OutboundMessage(models.Model):
    """The ledger: every email is recorded here before it is sent.

    ``idempotency_key`` is unique, so a second sweep, a second worker or a retried
    task cannot create (and so cannot send) the same message twice.
    """

    kind = models.CharField(max_length=40, choices=MessageKind.choices)
    idempotency_key = models.CharField(max_length=200, unique=True)
    patient = models.ForeignKey(
        Patient, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    recipient = models.CharField(max_length=254)
    content_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    about = GenericForeignKey("content_type", "object_id")
    subject = models.CharField(max_length=200, blank=True)
    # The rendered email as it was recorded (sent as is, even on a retry days later).
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # [{"filename": ..., "content": ..., "mimetype": ...}], text attachments only (.ics).
    attachments = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    skip_reason = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    due_at = models.DateTimeField()
    # Retried until then, never sent after (clinic.messaging.message_useful_until, set when
    # the message is recorded, from its kind and what it is about).
    useful_until = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-due_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="message_status_due_idx"),
            models.Index(fields=["content_type", "object_id"], name="message_about_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} ({self.status})"


class MailServerState(models.Model):
    """One row: how the SMTP server answered lately, for the health page and the outbox.

    ``consecutive_failures`` counts temporary failures (refused, timed out, 4xx) since the
    server last accepted a message; a recipient refused for good is not the server's fault.
    """

    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_accepted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Mail server: {self.consecutive_failures} failure(s) in a row"


class AuditAction(models.TextChoices):
    CREATE = "create", "Created"
    CHANGE = "change", "Changed"
    DELETE = "delete", "Deleted"
    VIEW = "view", "Viewed"
    SIGN = "sign", "Signed"
    AMEND = "amend", "Amended"
    EXPORT = "export", "Exported"
    ERASE = "erase", "Erased"
    LOGIN = "login", "Signed in"
    LOGOUT = "logout", "Signed out"
    LOGIN_FAILED = "login_failed", "Sign-in failed"
    LOCKOUT = "lockout", "Locked out"
    OTP_ENROL = "otp_enrol", "Two-factor enrolled"
    OTP_FAILED = "otp_failed", "Two-factor code refused"


class AuditEntryQuerySet(models.QuerySet):
    """The trail is append-only for the application: bulk writes are refused."""

    def update(self, **kwargs: object) -> int:
        raise AuditTrailIsAppendOnly("Audit entries cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("Audit entries cannot be deleted.")

    def _redact_payloads(self, *, redacted_at: object) -> int:
        """The one permitted change (GDPR erasure): blank the before/after payload.

        The chained hash covers ``payload_digest``, not the payload, so the chain still
        verifies; the database guards allow exactly this change and sealing, nothing else.
        """
        return super().update(before="", after="", detail="", redacted_at=redacted_at)

    def _seal(self, *, seq: int, prev_hash: str, hash: str) -> int:
        """The other permitted change: give a pending view entry its place in the chain.

        The database guards allow it only on an entry that has no ``seq`` yet.
        """
        pending = self.filter(seq__isnull=True)
        return models.QuerySet.update(pending, seq=seq, prev_hash=prev_hash, hash=hash)


class AuditTrailIsAppendOnly(Exception):
    pass


class AuditEntry(models.Model):
    """One line of the tamper-evident audit trail (written only by ``clinic.audit.record``).

    ``hash = sha256(prev_hash + canonical JSON of the entry)``; ``seq`` is gap-free and
    unique, so a deleted, inserted or edited entry breaks the chain where it happened.
    Views of records are written without ``seq`` or hash (no lock on a read) and are sealed
    into the chain in the order they were written by ``clinic.audit.seal_pending``.
    Users and patients are plain ids, not foreign keys: deleting a user must not touch
    the trail.
    """

    # Empty while a view entry waits to be sealed into the chain.
    seq = models.PositiveBigIntegerField(unique=True, null=True, blank=True)
    at = models.DateTimeField(db_index=True)
    actor_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    actor_username = models.CharField(max_length=150, blank=True)
    # Text, not inet: the hash covers exactly what was written, with no re-rendering.
    ip_address = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    # Canonical JSON text (not JSONField): the digest must survive a database round trip.
    before = models.TextField(blank=True)
    after = models.TextField(blank=True)
    detail = models.CharField(max_length=300, blank=True)
    payload_digest = models.CharField(max_length=64)
    redacted_at = models.DateTimeField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = [models.F("seq").desc(nulls_first=True), "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["patient_id", "-at"], name="audit_patient_at_idx"),
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"#{self.seq or 'pending'} {self.action} {self.object_type}:{self.object_id} "
            f"by {self.actor_username}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditTrailIsAppendOnly("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("Audit entries cannot be deleted.")


class AuditChainLock(models.Model):
    """A single row locked (SELECT ... FOR UPDATE) by every append to the audit chain
    (writes, and the sweep that seals view entries; recording a view takes no lock).

    Locking the newest entry is not enough on PostgreSQL: a second writer waiting on it
    would still see the old "newest" row after the wait and fork the chain.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)

    def __str__(self) -> str:
        return "audit chain lock"


class SchedulerHeartbeat(models.Model):
    """When a beat-driven job last ran (one row per job, overwritten each run).

    ``/healthz`` and the staff home compare it with BEAT_STALE_MINUTES: no sweep for that
    long means Celery beat (or every worker) has stopped and no email goes out.
    """

    name = models.CharField(max_length=50, primary_key=True)
    ran_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} last ran at {self.ran_at:%Y-%m-%d %H:%M}"
