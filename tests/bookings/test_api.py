"""The booking API: bearer tokens, roles, every endpoint and every class of error."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from bookings import services
from bookings.models import ApiToken, Appointment, AppointmentStatus
from bookings.services.tokens import api_token_issue, hash_token
from tests.builders import MONDAY, assess, local, series_after_sessions
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


class Api:
    """A JSON client that sends ``Authorization: Bearer <token>``."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api{path}", params, **self.headers)

    def post(self, path: str, body: dict) -> Any:
        return self.client.post(
            f"/api{path}", json.dumps(body), content_type="application/json", **self.headers
        )


@pytest.fixture
def reception_api(receptionist: Any) -> Api:
    return Api(api_token_issue(username=receptionist.username)[1])


@pytest.fixture
def practitioner_api(practitioner: Any) -> Api:
    return Api(api_token_issue(username=practitioner.user.username)[1])


def booking(patient: Any, practitioner: Any, treatment_type: Any, starts_at: Any) -> dict:
    return {
        "patient_id": patient.pk,
        "practitioner_id": practitioner.pk,
        "treatment_type_id": treatment_type.pk,
        "starts_at": starts_at.isoformat(),
    }


# ---------------------------------------------------------------------------------------------
# Authentication and roles
# ---------------------------------------------------------------------------------------------


def test_no_token_is_401(bookable):
    response = Api(None).get("/practitioners")
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


def test_a_wrong_token_is_401(bookable):
    assert Api("not-a-token").get("/practitioners").status_code == 401


def test_a_signed_in_session_is_not_enough_without_a_token(client, receptionist):
    client.force_login(receptionist)
    assert client.get("/api/practitioners").status_code == 401


def test_a_revoked_token_is_401(receptionist):
    row, token = api_token_issue(username=receptionist.username)
    services.tokens.api_token_revoke(token=row)
    assert Api(token).get("/practitioners").status_code == 401


def test_a_token_of_a_deactivated_user_is_401(receptionist):
    _, token = api_token_issue(username=receptionist.username)
    receptionist.is_active = False
    receptionist.save()
    assert Api(token).get("/practitioners").status_code == 401


def test_a_user_who_lost_their_role_gets_403(db):
    user = UserFactory(username="former")
    token = "former-staff-token-0123456789"
    ApiToken.objects.create(user=user, prefix=token[:8], token_hash=hash_token(token))
    response = Api(token).get("/practitioners")
    assert response.status_code == 403
    assert "no staff role" in response.json()["detail"]


def test_using_a_token_records_when_it_was_last_used(receptionist, reception_api, frozen):
    reception_api.get("/practitioners")
    assert ApiToken.objects.get().last_used_at == frozen


# ---------------------------------------------------------------------------------------------
# Patients
# ---------------------------------------------------------------------------------------------


def test_receptionist_searches_patients_without_clinical_detail(
    reception_api, patient, practitioner_user, bookable
):
    assess(patient, by=practitioner_user, contraindications={"rosacea"})
    response = reception_api.get("/patients", q="adeyemi")
    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 1
    (found,) = body["results"]
    assert found["given_name"] == "Zoë"
    assert found["suitability"] == "not_suitable"
    assert found["clinical"] is None


def test_practitioner_sees_the_latest_screening(practitioner_api, patient, practitioner_user):
    assess(patient, by=practitioner_user, contraindications={"rosacea"})
    body = practitioner_api.get(f"/patients/{patient.pk}").json()
    assert body["clinical"]["summary"] == "Not suitable: rosacea"
    assert body["clinical"]["reasons"] == ["Rosacea: exfoliation inflames it; do not treat."]


def test_patient_search_needs_a_query(reception_api):
    response = reception_api.get("/patients")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "q"]


def test_patient_search_refuses_a_one_letter_query_with_a_field_message(reception_api):
    response = reception_api.get("/patients", q="a")
    assert response.status_code == 400
    assert response.json()["errors"] == {"q": ["Too short."]}


def test_receptionist_registers_a_patient(reception_api):
    response = reception_api.post(
        "/patients",
        {
            "given_name": "Niamh",
            "family_name": "Kelly",
            "date_of_birth": "1990-04-02",
            "email": "niamh@example.com",
            "phone": "07700 900123",
        },
    )
    assert response.status_code == 201
    assert response.json()["phone"] == "+447700900123"
    assert response.json()["suitability"] == "unknown"


def test_registering_a_patient_born_in_the_future_is_400_with_the_field(reception_api, frozen):
    response = reception_api.post(
        "/patients",
        {"given_name": "Baby", "family_name": "Future", "date_of_birth": "2030-01-01"},
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["date_of_birth"]


def test_registering_a_patient_without_a_name_is_422(reception_api):
    response = reception_api.post(
        "/patients", {"given_name": "", "family_name": "Kelly", "date_of_birth": "1990-04-02"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "given_name"


def test_an_unknown_patient_is_404(reception_api):
    assert reception_api.get("/patients/999999").status_code == 404


# ---------------------------------------------------------------------------------------------
# Practitioners, rooms, treatment types, slots
# ---------------------------------------------------------------------------------------------


def test_lists_practitioners_rooms_and_treatment_types(
    reception_api, bookable, practitioner, second_practitioner
):
    practitioners = reception_api.get("/practitioners").json()
    assert [entry["display_name"] for entry in practitioners] == [
        "Amara Okafor",
        "Jonas Lindqvist",
    ]
    rooms = reception_api.get("/rooms").json()
    assert rooms == [
        {
            "id": rooms[0]["id"],
            "name": "Room 1",
            "is_active": True,
            "treatment_type_ids": [bookable.pk],
        }
    ]
    kinds = {entry["name"]: entry for entry in reception_api.get("/treatment-types").json()}
    assert kinds["Crystal microdermabrasion"]["buffer_minutes"] == 10
    assert kinds["Crystal microdermabrasion"]["room_ids"] == [rooms[0]["id"]]


def test_slots_for_a_treatment_on_a_day(reception_api, bookable, practitioner, patient):
    services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    body = reception_api.get(
        "/slots",
        treatment_type_id=bookable.pk,
        practitioner_id=practitioner.pk,
        first_day="2026-03-23",
        last_day="2026-03-23",
    ).json()
    starts = [slot["starts_at"] for slot in body["slots"]]
    assert "2026-03-23T09:15:00Z" in starts
    assert "2026-03-23T10:00:00Z" not in starts
    assert body["slots"][0]["room"]["name"] == "Room 1"
    assert body["count"] == len(starts)


def test_slots_for_a_series_default_to_its_next_window(
    reception_api, bookable, practitioner, patient
):
    series = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 10 * DAY],
    )
    body = reception_api.get("/slots", series_id=series.pk).json()
    assert body["first_day"] == "2026-03-27"
    assert body["last_day"] == "2026-04-10"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "treatment_type_id"),
        ({"first_day": "2026-03-30", "last_day": "2026-03-23"}, "last_day"),
        ({"first_day": "2026-03-23", "last_day": "2026-09-23"}, "last_day"),
    ],
)
def test_slots_refuse_bad_ranges_with_400_and_the_field(reception_api, bookable, params, field):
    if params:
        params["treatment_type_id"] = bookable.pk
    response = reception_api.get("/slots", **params)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_slots_with_a_date_that_is_not_a_date_is_422(reception_api, bookable):
    response = reception_api.get("/slots", treatment_type_id=bookable.pk, first_day="soon")
    assert response.status_code == 422


# ---------------------------------------------------------------------------------------------
# Appointments
# ---------------------------------------------------------------------------------------------


def test_books_an_appointment_and_says_who_booked_it(
    reception_api, bookable, practitioner, patient, receptionist
):
    response = reception_api.post(
        "/appointments", booking(patient, practitioner, bookable, local(MONDAY, 10))
    )
    body = response.json()
    assert response.status_code == 201
    assert body["status"] == "booked"
    assert body["booked_by"] == "rosa"
    assert body["room"]["name"] == "Room 1"
    assert body["ends_at"] == "2026-03-23T10:30:00Z"
    assert Appointment.objects.get().booked_by == receptionist


def test_a_double_booking_is_409_with_a_human_message(reception_api, bookable, practitioner):
    reception_api.post(
        "/appointments", booking(PatientFactory(), practitioner, bookable, local(MONDAY, 10))
    )
    response = reception_api.post(
        "/appointments", booking(PatientFactory(), practitioner, bookable, local(MONDAY, 10, 15))
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Amara Okafor is already booked from 10:00 to 10:40 (including cleanup time)."
    }


def test_a_series_session_too_soon_is_409_with_the_earliest_date(
    reception_api, bookable, practitioner, patient
):
    series = series_after_sessions(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        performed=[MONDAY - 7 * DAY],
    )
    response = reception_api.post(
        "/appointments",
        {**booking(patient, practitioner, bookable, local(MONDAY, 10)), "series_id": series.pk},
    )
    assert response.status_code == 409
    assert response.json()["earliest"] == "2026-03-30"
    assert "can be booked from Monday 30 March 2026" in response.json()["detail"]


def test_a_start_without_a_time_zone_is_422(reception_api, bookable, practitioner, patient):
    body = booking(patient, practitioner, bookable, local(MONDAY, 10))
    body["starts_at"] = "2026-03-23T10:00:00"
    response = reception_api.post("/appointments", body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "Input should have timezone info"


def test_booking_for_an_unknown_practitioner_is_404(reception_api, bookable, patient):
    body = booking(patient, patient, bookable, local(MONDAY, 10))
    body["practitioner_id"] = 999999
    assert reception_api.post("/appointments", body).status_code == 404


def test_lists_appointments_by_range_and_practitioner(
    reception_api, bookable, practitioner, second_practitioner
):
    from clinic.models import Room

    Room.objects.create(name="Room 2").treatment_types.add(bookable)
    for who, day in (
        (practitioner, MONDAY),
        (second_practitioner, MONDAY),
        (practitioner, MONDAY + DAY),
    ):
        services.appointment_book(
            patient=PatientFactory(),
            practitioner=who,
            treatment_type=bookable,
            starts_at=local(day, 10),
        )
    everyone = reception_api.get(
        "/appointments", start="2026-03-23T00:00:00Z", end="2026-03-24T00:00:00Z"
    ).json()
    assert len(everyone) == 2
    hers = reception_api.get(
        "/appointments",
        start="2026-03-23T00:00:00Z",
        end="2026-03-25T00:00:00Z",
        practitioner_id=practitioner.pk,
    ).json()
    assert [entry["starts_at"] for entry in hers] == [
        "2026-03-23T10:00:00Z",
        "2026-03-24T10:00:00Z",
    ]


def test_listing_a_backwards_range_is_400(reception_api):
    response = reception_api.get(
        "/appointments", start="2026-03-24T00:00:00Z", end="2026-03-23T00:00:00Z"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"end": ["Must be after start."]}


def test_gets_reschedules_and_cancels_an_appointment(
    reception_api, bookable, practitioner, patient
):
    created = reception_api.post(
        "/appointments", booking(patient, practitioner, bookable, local(MONDAY, 10))
    ).json()
    path = f"/appointments/{created['id']}"
    assert reception_api.get(path).json()["starts_at"] == "2026-03-23T10:00:00Z"

    moved = reception_api.post(
        f"{path}/reschedule", {"starts_at": "2026-03-24T11:00:00+00:00", "reason": "Phone call"}
    )
    assert moved.status_code == 200
    assert moved.json()["starts_at"] == "2026-03-24T11:00:00Z"

    cancelled = reception_api.post(f"{path}/cancel", {"reason": "Patient unwell"})
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancellation_reason"] == "Patient unwell"


def test_rescheduling_into_a_taken_time_is_409(reception_api, bookable, practitioner, patient):
    first = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    services.appointment_book(
        patient=PatientFactory(),
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 14),
    )
    response = reception_api.post(
        f"/appointments/{first.pk}/reschedule", {"starts_at": local(MONDAY, 14).isoformat()}
    )
    assert response.status_code == 409
    assert "already booked from 14:00" in response.json()["detail"]


def test_cancelling_without_a_reason_is_422(reception_api, bookable, practitioner, patient):
    appointment = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    response = reception_api.post(f"/appointments/{appointment.pk}/cancel", {"reason": ""})
    assert response.status_code == 422


def test_receptionist_confirms_but_cannot_complete(
    reception_api, bookable, practitioner, patient, time_machine
):
    appointment = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    path = f"/appointments/{appointment.pk}/status"
    assert reception_api.post(path, {"status": "confirmed"}).json()["status"] == "confirmed"
    time_machine.move_to(local(MONDAY, 10, 35), tick=False)
    response = reception_api.post(path, {"status": "completed"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role does not allow completing appointments."}


def test_practitioner_completes_after_the_start(
    practitioner_api, bookable, practitioner, patient, time_machine
):
    appointment = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    path = f"/appointments/{appointment.pk}/status"
    too_soon = practitioner_api.post(path, {"status": "completed"})
    assert too_soon.status_code == 409
    time_machine.move_to(local(MONDAY, 10, 35), tick=False)
    assert practitioner_api.post(path, {"status": "completed"}).json()["status"] == "completed"
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED


def test_an_unknown_status_is_422(reception_api, bookable, practitioner, patient):
    appointment = services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=bookable,
        starts_at=local(MONDAY, 10),
    )
    response = reception_api.post(f"/appointments/{appointment.pk}/status", {"status": "booked"})
    assert response.status_code == 422


# ---------------------------------------------------------------------------------------------
# Schema and docs
# ---------------------------------------------------------------------------------------------


def test_openapi_schema_lists_every_endpoint_and_the_bearer_scheme(client, db):
    schema = client.get("/api/openapi.json").json()
    assert set(schema["paths"]) == {
        "/api/patients",
        "/api/patients/{patient_id}",
        "/api/practitioners",
        "/api/rooms",
        "/api/treatment-types",
        "/api/slots",
        "/api/appointments",
        "/api/appointments/{appointment_id}",
        "/api/appointments/{appointment_id}/reschedule",
        "/api/appointments/{appointment_id}/cancel",
        "/api/appointments/{appointment_id}/status",
    }
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert "409" in schema["paths"]["/api/appointments"]["post"]["responses"]


def test_docs_page_loads_swagger_from_our_own_static_files(client, db):
    html = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_api_writes_are_audited_as_the_tokens_user(reception_api, bookable, practitioner, patient):
    from clinic.models import AuditEntry

    reception_api.post("/appointments", booking(patient, practitioner, bookable, local(MONDAY, 10)))
    entry = AuditEntry.objects.filter(object_type__icontains="appointment").order_by("-seq").first()
    assert entry is not None
    assert entry.actor_username == "rosa"
