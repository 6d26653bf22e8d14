"""One root for every refusal: ``clinic.errors.DomainError`` (message, code, status, data)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import RequestFactory

from bookings import rules as booking_rules
from bookings.api import BadInput, domain_error
from bookings.selfservice import SelfServiceRefused
from bookings.services.appointments import SeriesPlanError
from clinic.date_input import DateInputError
from clinic.errors import DomainError, NotAllowed
from clinic.messaging import MessageNotResendable
from clinic.phones import InvalidPhoneNumber
from clinic.privacy import PrivacyError
from clinic.services import InvalidPatientDetails, PatientErased
from treatments import rules as treatment_rules
from treatments.parameters import ParameterError, SchemaError
from treatments.services.assessments import AssessmentError, NotAPractitioner
from treatments.services.catalogue import CatalogueError
from treatments.services.series import SeriesError
from treatments.services.sessions import SessionError

REFUSALS = [
    MessageNotResendable,
    InvalidPatientDetails,
    PatientErased,
    PrivacyError,
    InvalidPhoneNumber,
    NotAllowed,
    treatment_rules.SpacingViolation,
    treatment_rules.OverrideNotAllowed,
    booking_rules.BookingError,
    booking_rules.SlotUnavailable,
    booking_rules.InvalidTransition,
    booking_rules.HoursRefused,
    DateInputError,
    SeriesPlanError,
    SelfServiceRefused,
    SessionError,
    SeriesError,
    AssessmentError,
    NotAPractitioner,
    CatalogueError,
    SchemaError,
    ParameterError,
    BadInput,
]


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda refusal: refusal.__name__)
def test_every_apps_refusals_share_the_one_domain_error_root_with_their_own_code(refusal):
    assert issubclass(refusal, DomainError)
    assert refusal.code != DomainError.code
    assert 400 <= refusal.http_status < 500


def test_codes_name_one_refusal_each():
    codes = [refusal.code for refusal in REFUSALS]
    assert len(codes) == len(set(codes))


def test_the_old_import_paths_still_name_the_one_root():
    assert treatment_rules.DomainError is DomainError
    assert booking_rules.DomainError is DomainError


def test_clinic_refusals_that_were_value_errors_still_are():
    # Callers that parse a phone number or patient details as plain values keep working.
    assert isinstance(InvalidPhoneNumber("Enter digits."), ValueError)
    assert isinstance(InvalidPatientDetails("phone", "Enter digits."), ValueError)


def answer(error: DomainError) -> tuple[int, dict]:
    response = domain_error(RequestFactory().get("/api/anything"), error)
    return response.status_code, json.loads(response.content)


def test_the_api_answers_any_refusal_with_its_status_and_documented_body():
    too_soon = treatment_rules.SpacingViolation(
        "Next session can be booked from 30 March.", earliest=dt.date(2026, 3, 30)
    )
    assert answer(too_soon) == (
        409,
        {"detail": "Next session can be booked from 30 March.", "earliest": "2026-03-30"},
    )
    assert answer(booking_rules.SlotUnavailable("Taken.")) == (409, {"detail": "Taken."})
    assert answer(NotAllowed("Your role does not allow that.")) == (
        403,
        {"detail": "Your role does not allow that."},
    )
    assert answer(InvalidPatientDetails("phone", "Enter digits.")) == (
        400,
        {"detail": "Enter digits.", "errors": {"phone": ["Enter digits."]}},
    )
    assert answer(MessageNotResendable("That message no longer exists.")) == (
        409,
        {"detail": "That message no longer exists."},
    )
