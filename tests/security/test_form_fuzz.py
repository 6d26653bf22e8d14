"""Property-based: random and hostile values at every form; never a 5xx, nothing half-written.

For each URL that takes a POST (clinic.access), the form's field names are read from its
page, then hypothesis posts hostile values for them (and for fields the form does not
have) as a role the table allows. The answer must be below 500, and an answer that is not
a redirect (the form again, with its errors, or a 4xx) must leave every clinical and
booking table exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings import links
from bookings.models import TimeOff
from bookings.services import appointment_book
from bookings.services.tokens import api_token_issue
from clinic.access import ADMIN_NAMESPACE, ANONYMOUS, API_NAMESPACE, MATRIX, M, P, R
from clinic.models import ClinicClosure, MessageStatus, OutboundMessage
from clinic.roles import Role
from tests.builders import (
    MONDAY,
    crystal_with_room,
    local,
    logged_session,
    open_clinic_business_hours,
    planned_series,
    signed_session,
    treatment_type,
    working_week,
)
from tests.factories import PatientFactory, PractitionerFactory, UserFactory
from tests.security.urlwalk import concrete_path, routes

pytestmark = pytest.mark.django_db

HOSTILE_TEXT = [
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "NaN",
    "99999999999999999999999",
    "2026-02-30",
    "31/12/1899",
    "9999-12-31T25:61",
    "' OR '1'='1' --",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "../../../etc/passwd",
    "\x00",
    "a\x00b",
    "\u202egnp.exe",
    "😀" * 60,
    "x" * 5000,
    "true",
    "on",
    "[]",
    '{"a": 1}',
]
hostile = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40), st.integers().map(str))

# Rows a rejected submission must leave untouched.
WATCHED = [
    "clinic.Patient",
    "clinic.OutboundMessage",
    "clinic.ClinicClosure",
    "clinic.Room",
    "treatments.TreatmentType",
    "treatments.SkinAssessment",
    "treatments.TreatmentSeries",
    "treatments.TreatmentSession",
    "treatments.Amendment",
    "treatments.AftercareNote",
    "bookings.Appointment",
    "bookings.WorkingHours",
    "bookings.TimeOff",
    "bookings.ApiToken",
]
FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"', re.IGNORECASE)
SKIPPED_FIELDS = {"csrfmiddlewaretoken", "next"}


def _state() -> dict[str, Any]:
    """A fingerprint of the watched tables: row ids and their last-change stamps."""
    fingerprint = {}
    for label in WATCHED:
        model = apps.get_model(label)
        fingerprint[label] = sorted(
            tuple(str(value) for value in row)
            for row in model.objects.values_list(
                *[field.attname for field in model._meta.concrete_fields]
            )
        )
    return fingerprint


@pytest.fixture(scope="module")
def post_routes(django_db_blocker: Any) -> list[Any]:
    with django_db_blocker.unblock():
        return [
            route
            for route in routes()
            if route.name in MATRIX
            and MATRIX[route.name].post
            and not route.name.startswith((f"{ADMIN_NAMESPACE}:", f"{API_NAMESPACE}:", "logout"))
        ]


@pytest.fixture
def world(time_machine: Any) -> dict[str, Any]:
    """One of everything a form can be about, owned by a manager who is also a practitioner."""
    time_machine.move_to(local(MONDAY, 8), tick=False)
    manager = UserFactory(username="fuzz-manager", role=Role.MANAGER, is_staff=True)
    practitioner = PractitionerFactory(user=manager, display_name="Fuzz Practitioner")
    open_clinic_business_hours()
    working_week(practitioner)
    crystal = crystal_with_room()
    patient = PatientFactory(given_name="Fuzz", family_name="Target")
    signed_series = planned_series(patient, practitioner, start_on=MONDAY - dt.timedelta(days=42))
    signed = signed_session(signed_series, practitioner, local(MONDAY - dt.timedelta(days=42), 10))
    draft = logged_session(signed_series, practitioner, local(MONDAY - dt.timedelta(days=14), 10))
    appointment = appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=crystal,
        starts_at=local(MONDAY + dt.timedelta(days=1), 10),
        booked_by=manager,
    )
    message = OutboundMessage.objects.create(
        kind="appointment_reminder",
        idempotency_key="fuzz-failed",
        patient=patient,
        recipient=patient.email,
        status=MessageStatus.FAILED,
        due_at=timezone.now(),
    )
    closure = ClinicClosure.objects.create(date=MONDAY + dt.timedelta(days=60), reason="Training")
    time_off = TimeOff.objects.create(
        practitioner=practitioner,
        starts_at=local(MONDAY + dt.timedelta(days=30), 9),
        ends_at=local(MONDAY + dt.timedelta(days=30), 17),
    )
    api_token, _ = api_token_issue(username=manager.username, name="fuzz")
    assessment = patient.assessments.first()
    token = links.make_token(
        purpose="confirm",
        subject_id=appointment.pk,
        version=links.appointment_version(appointment.starts_at),
    )
    ids = {
        "clinic:patient_update": {"pk": patient.pk},
        "clinic:patient_archive": {"pk": patient.pk},
        "clinic:patient_unarchive": {"pk": patient.pk},
        "clinic:outbox_resend": {"pk": message.pk},
        "treatments:assessment_update": {"pk": assessment.pk},
        "treatments:assessment_amend": {"pk": assessment.pk},
        "treatments:assessment_sign": {"pk": assessment.pk},
        "treatments:session_edit": {"session_id": draft.pk},
        "treatments:session_sign": {"session_id": draft.pk},
        "treatments:session_discard": {"session_id": draft.pk},
        "treatments:session_amend": {"session_id": signed.pk},
        "bookings:appointment_action": {"pk": appointment.pk},
        "bookings:appointment_reschedule": {"pk": appointment.pk},
        "bookings:appointment_cancel": {"pk": appointment.pk},
        "bookings:closure_delete": {"pk": closure.pk},
        "bookings:time_off_delete": {"pk": time_off.pk},
        "bookings:room_edit": {"pk": crystal.rooms.first().pk},
        "bookings:api_token_revoke": {"pk": api_token.pk},
    }
    receptionist = UserFactory(username="fuzz-desk", role=Role.RECEPTIONIST)
    return {
        "users": {M: manager, P: manager, R: receptionist},
        "common": {
            "patient_id": patient.pk,
            "patient_pk": patient.pk,
            "series_id": signed_series.pk,
            "practitioner_id": practitioner.pk,
            "treatment_type_id": treatment_type().pk,
            "token": token,
        },
        "ids": ids,
    }


def _client_for(roles: tuple[str, ...], world: dict[str, Any]) -> Client:
    client = Client(raise_request_exception=False)
    for role in (M, P, R):
        if role in roles:
            client.force_login(world["users"][role])
            return client
    assert ANONYMOUS in roles
    return client


def test_every_form_answers_hostile_input_with_a_message_never_an_error(
    post_routes: list[Any], world: dict[str, Any]
):
    failures: list[str] = []
    statuses: list[int] = []
    for route in post_routes:
        access = MATRIX[route.name]
        client = _client_for(access.post, world)
        path = concrete_path(route, {**world["common"], **world["ids"].get(route.name, {})})
        page = client.get(path)
        fields = sorted(set(FIELD.findall(page.content.decode())) - SKIPPED_FIELDS) or ["value"]
        _fuzz_one(client, path, fields, failures, statuses)
    assert failures == [], "\n".join(failures[:20])
    # The walk reached the forms: most answers are the form again with its errors.
    assert len(post_routes) >= 40
    assert statuses.count(200) > len(statuses) / 3


def _fuzz_one(
    client: Client, path: str, fields: list[str], failures: list[str], statuses: list[int]
) -> None:
    @settings(
        max_examples=6,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        values=st.fixed_dictionaries({}, optional=dict.fromkeys(fields, hostile)),
        extra=st.dictionaries(
            st.sampled_from(["id", "pk", "patient", "status"]), hostile, max_size=2
        ),
    )
    def post_hostile(values: dict[str, str], extra: dict[str, str]) -> None:
        before = _state()
        response = client.post(path, {**extra, **values})
        statuses.append(response.status_code)
        if response.status_code >= 500:
            failures.append(f"POST {path} {values!r}: {response.status_code}")
            return
        if response.status_code not in (301, 302, 303) and _state() != before:
            failures.append(f"POST {path} {values!r}: refused ({response.status_code}) but wrote")

    post_hostile()


def test_an_absurd_room_id_is_an_invalid_choice_not_a_crash(client: Client, manager: Any):
    client.force_login(manager)
    response = client.post("/treatments/new/", {"name": "Peel", "rooms": "9" * 30})
    assert response.status_code == 200
    assert "Select a valid choice" in str(response.context["form"].errors["rooms"])
