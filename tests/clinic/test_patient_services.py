"""Writing patient records: normal forms, search text kept in step, archiving."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from clinic.models import Patient, patient_search_text
from clinic.services import (
    InvalidPatientDetails,
    PatientDetails,
    PatientErased,
    patient_archive,
    patient_create,
    patient_unarchive,
    patient_update,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 10)


def details(**changes: Any) -> PatientDetails:
    values: dict[str, Any] = {
        "given_name": "Zoë",
        "family_name": "O\u2019Brien",
        "date_of_birth": dt.date(1990, 5, 17),
        "email": "Zoe.OBrien@Example.com ",
        "phone": "07700 900123",
    }
    values.update(changes)
    return PatientDetails(**values)


def test_a_new_patient_is_stored_with_e164_phone_and_lower_case_email():
    patient = patient_create(
        details=details(given_name="  Zoë ", family_name="O\u2019Brien"), today=TODAY
    )

    patient.refresh_from_db()
    assert (patient.given_name, patient.family_name) == ("Zoë", "O\u2019Brien")
    assert patient.phone == "+447700900123"
    assert patient.email == "zoe.obrien@example.com"
    assert patient.is_active
    assert patient.suitability == "unknown"


def test_search_text_is_accent_free_lower_case_with_digit_forms_of_the_phone():
    patient = patient_create(details=details(), today=TODAY)

    assert patient.search_text == (
        " zoe o'brien obrien zoe.obrien@example.com +447700900123 447700900123 07700900123 "
    )


def test_search_text_follows_every_change_of_name_email_or_phone():
    patient = patient_create(details=details(), today=TODAY)

    patient_update(
        patient=patient,
        details=details(
            family_name="Ng", email="", phone="+33 6 12 34 56 78", preferred_contact="sms"
        ),
        today=TODAY,
    )

    patient.refresh_from_db()
    assert patient.phone == "+33612345678"
    assert patient.search_text == " zoe ng +33612345678 33612345678 0612345678 "


def test_updating_details_never_overwrites_the_suitability_badge(practitioner: Any):
    patient = patient_create(details=details(), today=TODAY)
    stale_copy = Patient.objects.get(pk=patient.pk)
    Patient.objects.filter(pk=patient.pk).update(
        suitability="not_suitable", suitability_summary="Not suitable: rosacea"
    )

    patient_update(patient=stale_copy, details=details(notes="Prefers mornings"), today=TODAY)

    patient.refresh_from_db()
    assert patient.notes == "Prefers mornings"
    assert patient.suitability == "not_suitable"
    assert patient.suitability_summary == "Not suitable: rosacea"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"given_name": "   "}, "given_name", "given (first) name"),
        ({"family_name": ""}, "family_name", "family name"),
        ({"date_of_birth": dt.date(2026, 3, 11)}, "date_of_birth", "cannot be in the future"),
        ({"date_of_birth": dt.date(1900, 1, 1)}, "date_of_birth", "more than 120 years ago"),
        ({"email": "zoe@"}, "email", "is not an email address"),
        ({"phone": "0770"}, "phone", "is not a valid phone number"),
        ({"phone": "call me"}, "phone", "digits"),
        ({"email": "", "preferred_contact": "email"}, "email", "prefers email"),
        ({"phone": "", "preferred_contact": "sms"}, "phone", "prefers phone or text"),
        ({"phone": "020 7946 0321", "preferred_contact": "sms"}, "phone", "landline"),
    ],
    ids=[
        "blank-given-name",
        "blank-family-name",
        "born-tomorrow",
        "born-126-years-ago",
        "bad-email",
        "short-phone",
        "words-for-a-phone",
        "email-preferred-without-email",
        "text-preferred-without-phone",
        "texts-to-a-landline",
    ],
)
def test_refuses_details_a_record_cannot_hold(changes: dict[str, Any], field: str, message: str):
    with pytest.raises(InvalidPatientDetails) as refused:
        patient_create(details=details(**changes), today=TODAY)

    assert refused.value.field == field
    assert message in refused.value.message
    assert Patient.objects.count() == 0


def test_a_patient_born_today_is_accepted():
    patient = patient_create(details=details(date_of_birth=TODAY), today=TODAY)

    assert patient.date_of_birth == TODAY


def test_archiving_hides_nothing_but_the_active_flag_and_unarchiving_restores_it():
    patient = PatientFactory()

    patient_archive(patient=patient)
    patient.refresh_from_db()
    assert not patient.is_active
    assert Patient.objects.filter(pk=patient.pk).exists()

    patient_unarchive(patient=patient)
    patient.refresh_from_db()
    assert patient.is_active


def test_the_factory_and_the_services_build_the_same_search_text(settings: Any):
    patient = PatientFactory(given_name="José", family_name="Martínez", phone="+447700900001")

    assert patient.search_text == patient_search_text(
        given_name="José",
        family_name="Martínez",
        email=patient.email,
        phone="+447700900001",
        region=settings.CLINIC_PHONE_REGION,
    )
    assert " jose martinez " in patient.search_text


def test_phone_numbers_without_a_country_code_are_read_in_the_configured_region(settings: Any):
    settings.CLINIC_PHONE_REGION = "IE"

    patient = patient_create(details=details(phone="087 123 4567"), today=TODAY)

    assert patient.phone == "+353871234567"
    assert " 0871234567 " in patient.search_text


def test_a_landline_is_fine_when_the_patient_prefers_calls():
    patient = patient_create(
        details=details(phone="020 7946 0321", preferred_contact="phone"), today=TODAY
    )

    assert patient.phone == "+442079460321"


def test_the_services_refuse_to_fill_in_an_erased_patient_again():
    patient = PatientFactory(is_active=False)
    Patient.objects.filter(pk=patient.pk).update(erased_at=timezone.now())
    patient.refresh_from_db()

    with pytest.raises(PatientErased):
        patient_update(patient=patient, details=details(), today=TODAY)
    with pytest.raises(PatientErased):
        patient_unarchive(patient=patient)
