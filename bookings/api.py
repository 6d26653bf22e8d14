"""The booking API: JSON for integrations (the clinic's website, other tools).

Built with django-ninja: typed pydantic schemas, an OpenAPI schema at ``/api/openapi.json``
and interactive docs at ``/api/docs`` (Swagger UI served from ninja's bundled static files,
no CDN), and plain functions as endpoints so they call the very services and selectors the
pages use.

Authentication is ``Authorization: Bearer <token>`` only (tokens from
``manage.py issue_api_token`` or the API tokens page); the session cookie is ignored, so CSRF
does not apply. The token's user acts with their role: anyone with a staff role may search
patients and book, move and cancel; only practitioners and managers complete appointments or
see clinical detail.

Errors: ``422`` (schema validation, field by field) or ``400`` (``detail`` and ``errors`` by
field) for bad input, ``409`` (``detail``, and ``earliest`` where it applies) when a booking
rule says no, ``401`` without a valid token, ``403`` when the role does not allow it, ``404``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, URLResolver
from django.utils import timezone
from ninja import Field, NinjaAPI, Query, Schema
from ninja.errors import HttpError
from ninja.responses import Status
from ninja.security import HttpBearer
from pydantic import AfterValidator, AwareDatetime

from bookings import selectors, services
from bookings.models import Appointment
from bookings.rules import search_range_for_window
from bookings.services import tokens
from clinic import audit, clock, date_input
from clinic import services as clinic_services
from clinic.errors import BAD_INPUT, DomainError
from clinic.models import Patient, Practitioner, PreferredContact, Room
from clinic.roles import CLINICAL_ROLES, has_role, user_roles
from clinic.selectors import parse_patient_query, patient_list
from treatments.models import TreatmentSeries, TreatmentType


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = tokens.api_token_authenticate(token)
        if user is None:
            return None
        # The rest of the request (audit trail, role checks) acts as the token's user.
        request.user = user
        return user


api = NinjaAPI(
    title="Clinic booking API",
    version="1",
    description=__doc__ or "",
    urls_namespace="api",
    auth=BearerToken(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


# Dates the clinic can work with (``clinic.date_input``): 9999-12-31 is a 422, not a 500.
Day = Annotated[dt.date, AfterValidator(date_input.check_day)]
Moment = Annotated[AwareDatetime, AfterValidator(date_input.check_moment)]


class BadInput(DomainError):
    """Input that passed the schema but makes no sense (400, ``errors`` by field)."""

    code = "bad_input"
    http_status = BAD_INPUT
    data_fields = ("errors",)

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, error: DomainError) -> Any:
    """Every refusal, from any app, answers with its own status and the documented body:
    ``detail`` in words for people, then the error's data (``earliest``, ``errors``)."""
    body: dict[str, Any] = {"detail": error.message, **error.data}
    return api.create_response(request, body, status=error.http_status)


@api.exception_handler(Exception)
def unexpected_error(request: HttpRequest, error: Exception) -> Any:
    """An unexpected error is Django's to answer (logged, the plain 500 page), in every mode:
    django-ninja's own answer in debug mode is the traceback, for whoever asked."""
    raise error


def _user(request: HttpRequest) -> Any:
    user = request.auth  # type: ignore[attr-defined]
    if not user_roles(user):
        raise HttpError(403, "Your account has no staff role: the API is not available to it.")
    return user


# ---------------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str


class ConflictOut(Schema):
    detail: str = Field(..., description="What the booking rule said, in words for people")
    earliest: dt.date | None = Field(None, description="The first allowed day, when it applies")


class BadInputOut(Schema):
    detail: str
    errors: dict[str, list[str]]


class Ref(Schema):
    id: int
    name: str


class ClinicalOut(Schema):
    assessed_on: dt.date | None
    summary: str
    reasons: list[str]


class PatientOut(Schema):
    id: int
    given_name: str
    family_name: str
    date_of_birth: dt.date
    email: str
    phone: str
    preferred_contact: str
    is_active: bool
    suitability: str = Field(
        ..., description="suitable, caution, not_suitable or unknown (no assessment yet)"
    )
    clinical: ClinicalOut | None = Field(
        None, description="Only for practitioners and managers: the latest screening"
    )


class PatientIn(Schema):
    given_name: str = Field(..., min_length=1, max_length=80)
    family_name: str = Field(..., min_length=1, max_length=80)
    date_of_birth: Day
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    # Types: the choice's value is the literal 'email'.
    preferred_contact: Literal["email", "phone", "sms"] = PreferredContact.EMAIL  # type: ignore[assignment]
    email_reminders: bool = Field(
        False,
        description="The patient agreed to reminders, aftercare and follow-up emails. "
        "Consent is never assumed: leave it false unless the patient said yes.",
    )


class PatientPage(Schema):
    count: int
    results: list[PatientOut]


class PractitionerOut(Schema):
    id: int
    display_name: str
    title: str
    is_active: bool


class RoomOut(Schema):
    id: int
    name: str
    is_active: bool
    treatment_type_ids: list[int]


class TreatmentTypeOut(Schema):
    id: int
    name: str
    modality: str
    default_duration_minutes: int
    buffer_minutes: int
    min_interval_days: int
    max_interval_days: int
    room_ids: list[int]


class SlotOut(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime
    practitioner: Ref
    room: Ref


class SlotsOut(Schema):
    first_day: dt.date
    last_day: dt.date
    count: int
    slots: list[SlotOut]


class AppointmentOut(Schema):
    id: int
    patient: Ref
    practitioner: Ref
    room: Ref
    treatment_type: Ref
    series_id: int | None
    series_session_number: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str
    cancellation_reason: str
    overdue: bool
    notes: str
    booked_by: str | None
    confirmed_at: dt.datetime | None
    created_at: dt.datetime


class AppointmentIn(Schema):
    patient_id: int
    practitioner_id: int
    treatment_type_id: int
    starts_at: Moment = Field(..., description="With a time zone offset, e.g. +00:00")
    room_id: int | None = None
    series_id: int | None = None
    duration_minutes: int | None = Field(None, ge=5, le=240)
    notes: str = Field("", max_length=2000)
    suitability_override_reason: str = Field("", max_length=2000)
    spacing_override_reason: str = Field("", max_length=2000)


class RescheduleIn(Schema):
    starts_at: Moment
    practitioner_id: int | None = None
    room_id: int | None = None
    reason: str = Field("", max_length=300)
    spacing_override_reason: str = Field("", max_length=2000)


class CancelIn(Schema):
    reason: str = Field(..., min_length=1, max_length=300)


class StatusIn(Schema):
    status: Literal["confirmed", "checked_in", "no_show", "completed"]


def _ref(obj: Any, name: str) -> dict[str, Any]:
    return {"id": obj.pk, "name": name}


def patient_out(patient: Patient, *, clinical: bool) -> dict[str, Any]:
    return {
        "id": patient.pk,
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "date_of_birth": patient.date_of_birth,
        "email": patient.email,
        "phone": patient.phone,
        "preferred_contact": patient.preferred_contact,
        "is_active": patient.is_active,
        "suitability": patient.suitability,
        "clinical": {
            "assessed_on": patient.assessed_on,
            "summary": patient.suitability_summary,
            "reasons": list(patient.suitability_reasons or []),
        }
        if clinical
        else None,
    }


def appointment_out(appointment: Appointment) -> dict[str, Any]:
    return {
        "id": appointment.pk,
        "patient": _ref(appointment.patient, appointment.patient.full_name),
        "practitioner": _ref(appointment.practitioner, appointment.practitioner.display_name),
        "room": _ref(appointment.room, appointment.room.name),
        "treatment_type": _ref(appointment.treatment_type, appointment.treatment_type.name),
        "series_id": appointment.series_id,
        "series_session_number": appointment.series_session_number,
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "status": appointment.status,
        "cancellation_reason": appointment.cancellation_reason,
        "overdue": appointment.overdue,
        "notes": appointment.notes,
        # Types: booked_by_id is checked on the same line.
        "booked_by": appointment.booked_by.username if appointment.booked_by_id else None,  # type: ignore[union-attr]
        "confirmed_at": appointment.confirmed_at,
        "created_at": appointment.created_at,
    }


def _appointment(pk: int) -> Appointment:
    return get_object_or_404(
        Appointment.objects.select_related(
            "patient", "practitioner", "room", "treatment_type", "booked_by"
        ),
        pk=pk,
    )


ERRORS = {400: BadInputOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ConflictOut}


# ---------------------------------------------------------------------------------------------
# Patients
# ---------------------------------------------------------------------------------------------


@api.get("/patients", response={200: PatientPage, **ERRORS}, tags=["patients"])
def patient_search(
    request: HttpRequest,
    q: str = Query(..., min_length=1, description="Name, email or phone"),
    limit: int = Query(20, ge=1, le=100),
):
    """Active patients matching every word of ``q`` (accent- and case-insensitive)."""
    user = _user(request)
    query = parse_patient_query(q)
    if query.too_short:
        raise BadInput("Type at least 2 letters to search.", errors={"q": ["Too short."]})
    matches = patient_list(query=query)
    results = list(matches[:limit])
    clinical = has_role(user, *CLINICAL_ROLES)
    return {
        "count": matches.count(),
        "results": [patient_out(patient, clinical=clinical) for patient in results],
    }


@api.post("/patients", response={201: PatientOut, **ERRORS}, tags=["patients"])
def patient_create(request: HttpRequest, payload: PatientIn):
    """Register a patient (the same checks as the patient form)."""
    user = _user(request)
    patient = clinic_services.patient_create(
        details=clinic_services.PatientDetails(**payload.dict())
    )
    patient.refresh_from_db()
    return Status(201, patient_out(patient, clinical=has_role(user, *CLINICAL_ROLES)))


@api.get("/patients/{patient_id}", response={200: PatientOut, **ERRORS}, tags=["patients"])
def patient_get(request: HttpRequest, patient_id: int):
    user = _user(request)
    patient = get_object_or_404(Patient, pk=patient_id)
    clinical = has_role(user, *CLINICAL_ROLES)
    if clinical:
        audit.record_view(patient, detail="API: clinical summary")
    return patient_out(patient, clinical=clinical)


# ---------------------------------------------------------------------------------------------
# The clinic
# ---------------------------------------------------------------------------------------------


@api.get("/practitioners", response={200: list[PractitionerOut], **ERRORS}, tags=["clinic"])
def practitioner_list(request: HttpRequest, include_inactive: bool = False):
    _user(request)
    queryset = Practitioner.objects.order_by("display_name")
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return list(queryset)


@api.get("/rooms", response={200: list[RoomOut], **ERRORS}, tags=["clinic"])
def room_list(request: HttpRequest):
    _user(request)
    rooms = Room.objects.prefetch_related("treatment_types").order_by("name")
    return [
        {
            "id": room.pk,
            "name": room.name,
            "is_active": room.is_active,
            "treatment_type_ids": sorted(kind.pk for kind in room.treatment_types.all()),
        }
        for room in rooms
    ]


@api.get("/treatment-types", response={200: list[TreatmentTypeOut], **ERRORS}, tags=["clinic"])
def treatment_type_list(request: HttpRequest):
    _user(request)
    kinds = TreatmentType.objects.filter(is_active=True).prefetch_related("rooms").order_by("name")
    return [
        {
            "id": kind.pk,
            "name": kind.name,
            "modality": kind.modality,
            "default_duration_minutes": kind.default_duration_minutes,
            "buffer_minutes": kind.buffer_minutes,
            "min_interval_days": kind.min_interval_days,
            "max_interval_days": kind.max_interval_days,
            "room_ids": sorted(room.pk for room in kind.rooms.all()),
        }
        for kind in kinds
    ]


# ---------------------------------------------------------------------------------------------
# Slots
# ---------------------------------------------------------------------------------------------


@api.get("/slots", response={200: SlotsOut, **ERRORS}, tags=["slots"])
def slot_list(
    request: HttpRequest,
    treatment_type_id: int | None = None,
    series_id: int | None = None,
    practitioner_id: int | None = None,
    patient_id: int | None = None,
    first_day: Day | None = None,
    last_day: Day | None = None,
):
    """Free start times on the 15-minute grid, clinic time zone rules applied.

    Give ``treatment_type_id``, or ``series_id`` (then the treatment, the patient and, unless
    given, the days of the series' next window are used). Days default to the next 14.
    """
    _user(request)
    today = clock.today()
    treatment_type = None
    if series_id is not None:
        series = get_object_or_404(
            TreatmentSeries.objects.select_related("treatment_type"), pk=series_id
        )
        treatment_type = series.treatment_type
        patient_id = patient_id or series.patient_id
        window_first, window_last = search_range_for_window(
            window=selectors.series_state(series).window, today=today
        )
        first_day = first_day or window_first
        last_day = last_day or window_last
    elif treatment_type_id is not None:
        treatment_type = get_object_or_404(TreatmentType, pk=treatment_type_id, is_active=True)
    else:
        raise BadInput(
            "Give a treatment_type_id or a series_id.",
            errors={"treatment_type_id": ["Required unless series_id is given."]},
        )
    first_day = first_day or today
    last_day = last_day or first_day + dt.timedelta(days=13)
    if last_day < first_day:
        raise BadInput(
            "last_day must not be before first_day.",
            errors={"last_day": ["Must not be before first_day."]},
        )
    if (last_day - first_day).days >= selectors.MAX_SEARCH_DAYS:
        raise BadInput(
            f"Search at most {selectors.MAX_SEARCH_DAYS} days at a time.",
            errors={"last_day": [f"At most {selectors.MAX_SEARCH_DAYS} days after first_day."]},
        )
    practitioner = get_object_or_404(Practitioner, pk=practitioner_id) if practitioner_id else None
    result = selectors.free_slots(
        treatment_type=treatment_type,
        first_day=first_day,
        last_day=last_day,
        now=timezone.now(),
        practitioner=practitioner,
        patient_id=patient_id,
    )
    return {
        "first_day": result.first_day,
        "last_day": result.last_day,
        "count": result.count,
        "slots": [
            {
                "starts_at": option.starts_at,
                "ends_at": option.ends_at,
                "practitioner": _ref(option.practitioner, option.practitioner.display_name),
                "room": _ref(option.room, option.room.name),
            }
            for day in result.days
            for option in day.options
        ],
    }


# ---------------------------------------------------------------------------------------------
# Appointments
# ---------------------------------------------------------------------------------------------


@api.get("/appointments", response={200: list[AppointmentOut], **ERRORS}, tags=["appointments"])
def appointment_list(
    request: HttpRequest,
    start: Moment,
    end: Moment,
    practitioner_id: int | None = None,
):
    """Appointments starting in ``[start, end)`` (at most 62 days), optionally for one
    practitioner, cancelled ones included (see ``status``)."""
    _user(request)
    if end <= start:
        raise BadInput("end must be after start.", errors={"end": ["Must be after start."]})
    if end - start > dt.timedelta(days=selectors.MAX_SEARCH_DAYS):
        raise BadInput(
            f"List at most {selectors.MAX_SEARCH_DAYS} days at a time.",
            errors={"end": [f"At most {selectors.MAX_SEARCH_DAYS} days after start."]},
        )
    appointments = selectors.appointments_in_range(
        start=start, end=end, practitioner_id=practitioner_id
    ).select_related("booked_by")
    return [appointment_out(appointment) for appointment in appointments]


@api.post("/appointments", response={201: AppointmentOut, **ERRORS}, tags=["appointments"])
def appointment_create(request: HttpRequest, payload: AppointmentIn):
    """Book an appointment. ``409`` says why a time cannot be booked (taken, outside hours,
    too close to another session of the treatment: then ``earliest`` is the first allowed
    day)."""
    user = _user(request)
    patient = get_object_or_404(Patient, pk=payload.patient_id)
    practitioner = get_object_or_404(Practitioner, pk=payload.practitioner_id)
    treatment_type = get_object_or_404(TreatmentType, pk=payload.treatment_type_id)
    room = get_object_or_404(Room, pk=payload.room_id) if payload.room_id else None
    series = None
    if payload.series_id is not None:
        series = get_object_or_404(TreatmentSeries, pk=payload.series_id)
    appointment = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=treatment_type,
        starts_at=payload.starts_at,
        booked_by=user,
        room=room,
        series=series,
        duration_minutes=payload.duration_minutes,
        notes=payload.notes,
        spacing_override_reason=payload.spacing_override_reason,
        suitability_override_reason=payload.suitability_override_reason,
    )
    return Status(201, appointment_out(_appointment(appointment.pk)))


@api.get(
    "/appointments/{appointment_id}",
    response={200: AppointmentOut, **ERRORS},
    tags=["appointments"],
)
def appointment_get(request: HttpRequest, appointment_id: int):
    _user(request)
    return appointment_out(_appointment(appointment_id))


@api.post(
    "/appointments/{appointment_id}/reschedule",
    response={200: AppointmentOut, **ERRORS},
    tags=["appointments"],
)
def appointment_reschedule(request: HttpRequest, appointment_id: int, payload: RescheduleIn):
    user = _user(request)
    appointment = _appointment(appointment_id)
    practitioner = (
        get_object_or_404(Practitioner, pk=payload.practitioner_id)
        if payload.practitioner_id
        else None
    )
    room = get_object_or_404(Room, pk=payload.room_id) if payload.room_id else None
    services.appointment_reschedule(
        appointment=appointment,
        starts_at=payload.starts_at,
        practitioner=practitioner,
        room=room,
        changed_by=user,
        reason=payload.reason,
        spacing_override_reason=payload.spacing_override_reason,
    )
    return appointment_out(_appointment(appointment_id))


@api.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, **ERRORS},
    tags=["appointments"],
)
def appointment_cancel(request: HttpRequest, appointment_id: int, payload: CancelIn):
    user = _user(request)
    appointment = _appointment(appointment_id)
    services.appointment_cancel(appointment=appointment, reason=payload.reason, cancelled_by=user)
    return appointment_out(_appointment(appointment_id))


@api.post(
    "/appointments/{appointment_id}/status",
    response={200: AppointmentOut, **ERRORS},
    tags=["appointments"],
)
def appointment_status(request: HttpRequest, appointment_id: int, payload: StatusIn):
    """Confirm, check in, mark a no-show, or (practitioners and managers) complete: the
    service's transition table decides, ``403`` when the role does not allow it."""
    user = _user(request)
    appointment = _appointment(appointment_id)
    services.appointment_set_status(appointment=appointment, status=payload.status, changed_by=user)
    return appointment_out(_appointment(appointment_id))


def urlpatterns() -> list[URLPattern | URLResolver]:
    """The API's URL patterns, exempt from the session login redirect (they use tokens).

    ``LoginRequiredMiddleware`` would otherwise send token-only clients to the sign-in page;
    the docs and the schema are public descriptions with no clinic data.
    """
    patterns, _, _ = api.urls
    for pattern in patterns:
        pattern.callback.login_required = False  # type: ignore[union-attr]
    return patterns
