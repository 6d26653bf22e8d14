"""Text fields have length limits: 10,000 characters typed into any free-text field of the
main forms get a form error naming the limit, never a database error or a 500."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django import forms
from django.urls import reverse

from bookings.forms import BookingForm, CancelForm, ClosureForm, RescheduleForm, TimeOffForm
from clinic.forms import PatientForm
from tests.builders import london, planned_series, treatment_type
from treatments.forms.assessments import AmendmentForm, AssessmentForm
from treatments.forms.catalogue import ParameterRowForm, TreatmentTypeForm
from treatments.forms.series import SeriesPlanForm, SeriesStopForm
from treatments.forms.sessions import SessionAmendForm, SessionForm

pytestmark = pytest.mark.django_db

TEN_THOUSAND = "x" * 10_000
TODAY = dt.date(2026, 3, 2)

FORMS: dict[str, Callable[[Any, Any], forms.Form]] = {
    "patient": lambda data, patient: PatientForm(
        data, today=TODAY, submit_label="Save", cancel_url="/"
    ),
    "booking": lambda data, patient: BookingForm(data, patient=patient, can_override=True),
    "reschedule": lambda data, patient: RescheduleForm(data, can_override=True),
    "cancel": lambda data, patient: CancelForm(data),
    "closure": lambda data, patient: ClosureForm(data),
    "time off": lambda data, patient: TimeOffForm(data),
    "assessment": lambda data, patient: AssessmentForm(data, patient=patient, today=TODAY),
    "assessment amendment": lambda data, patient: AmendmentForm(data, patient=patient, today=TODAY),
    "session log": lambda data, patient: SessionForm(
        data, treatment_type=treatment_type(), can_override=True
    ),
    "session amendment": lambda data, patient: SessionAmendForm(
        data, treatment_type=treatment_type(), can_override=True
    ),
    "series plan": lambda data, patient: SeriesPlanForm(
        data, assessed_concerns={}, suggestions={}, needs_override=True
    ),
    "series stop": lambda data, patient: SeriesStopForm(data),
    "catalogue": lambda data, patient: TreatmentTypeForm(data),
    "catalogue parameter": lambda data, patient: ParameterRowForm(data),
}


def _text_fields(form: forms.Form) -> list[str]:
    return [
        name
        for name, field in form.fields.items()
        if isinstance(field, forms.CharField) and not isinstance(field.widget, forms.HiddenInput)
    ]


@pytest.mark.parametrize("form_name", list(FORMS))
def test_ten_thousand_characters_in_any_text_field_is_a_form_error(
    form_name: str, patient: Any
) -> None:
    build = FORMS[form_name]
    names = _text_fields(build(None, patient))
    assert names, f"{form_name} has no text field"

    form = build(dict.fromkeys(names, TEN_THOUSAND), patient)

    assert not form.is_valid()
    for name in names:
        messages = " ".join(form.errors.get(name, []))
        assert "at most" in messages, f"{form_name}.{name} took 10,000 characters"


def test_overlong_patient_notes_are_a_form_error_on_the_page_not_a_500(
    client: Any, receptionist: Any
) -> None:
    client.force_login(receptionist)

    response = client.post(
        reverse("clinic:patient_create"),
        {
            "given_name": "Ada",
            "family_name": "Lovelace",
            "date_of_birth": "1990-12-10",
            "preferred_contact": "email",
            "notes": TEN_THOUSAND,
        },
    )

    assert response.status_code == 200
    assert "Ensure this value has at most" in response.content.decode()


def test_overlong_session_notes_are_a_form_error_on_the_page_not_a_500(
    client: Any, practitioner: Any, patient: Any
) -> None:
    series = planned_series(patient, practitioner, start_on=TODAY)
    client.force_login(practitioner.user)

    with time_machine.travel(london(2026, 3, 2, 12), tick=False):
        response = client.post(
            reverse("treatments:session_log", args=[series.pk]),
            {
                "practitioner": practitioner.pk,
                "performed_on": "2026-03-02",
                "performed_time": "10:30",
                "areas": ["face"],
                "duration_minutes": 30,
                "param_intensity": "5",
                "param_vacuum": "4",
                "param_crystal_flow": "3",
                "param_passes": "2",
                "redness": "mild",
                "notes": TEN_THOUSAND,
                "aftercare_additions": TEN_THOUSAND,
            },
        )

    assert response.status_code == 200
    assert not series.sessions.exists()
    assert response.content.decode().count("Ensure this value has at most") >= 2
