"""Account forms styled with crispy-forms (login uses Django's form as is), and the patient
forms."""

from __future__ import annotations

import datetime as dt
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout, Submit
from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm

from clinic.limits import NOTES_MAX_LENGTH
from clinic.models import PreferredContact
from clinic.phones import InvalidPhoneNumber, normalise_phone
from clinic.selectors import PatientStatus
from clinic.services import (
    DETAIL_FIELDS,
    OLDEST_AGE_YEARS,
    PatientDetails,
    date_of_birth_problem,
)


def _helper(label: str) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", label))
    return helper


class StyledPasswordChangeForm(PasswordChangeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Change password")


class StyledPasswordResetForm(PasswordResetForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Send reset link")


class StyledSetPasswordForm(SetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Set new password")


# --------------------------------------------------------------------------------------------
# Patients
# --------------------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class PatientSearchForm(forms.Form):
    """The search box on the patient list: a real GET form, htmx makes it live."""

    q = forms.CharField(
        label="Search patients",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "class": "form-control",
                "placeholder": "Name, email or phone",
                "autocomplete": "off",
                "autofocus": True,
            }
        ),
    )
    status = forms.ChoiceField(
        label="Show", choices=PatientStatus.choices, required=False, initial=PatientStatus.ACTIVE
    )

    def cleaned_status(self) -> str:
        if self.is_valid() and self.cleaned_data.get("status"):
            return self.cleaned_data["status"]
        return PatientStatus.ACTIVE

    def cleaned_query(self) -> str:
        return self.cleaned_data.get("q", "") if self.is_valid() else ""


class PatientForm(forms.Form):
    """Shape checks for a patient record; ``clinic.services`` normalises and saves it."""

    given_name = forms.CharField(label="Given name", max_length=80)
    family_name = forms.CharField(label="Family name", max_length=80)
    date_of_birth = forms.DateField(label="Date of birth", widget=DateInput())
    email = forms.EmailField(
        label="Email",
        required=False,
        max_length=254,
        error_messages={"invalid": "Enter an email address like name@example.com."},
    )
    phone = forms.CharField(
        label="Mobile phone",
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        help_text="e.g. 07700 900123, or +33 6 12 34 56 78 from abroad.",
    )
    preferred_contact = forms.ChoiceField(
        label="Preferred contact",
        choices=PreferredContact.choices,
        initial=PreferredContact.EMAIL,
        widget=forms.RadioSelect,
    )
    # Unticked until the patient says yes: a pre-ticked box is not consent. Existing patients
    # keep what they chose (the edit form starts from the stored value).
    email_reminders = forms.BooleanField(
        label="Patient agrees to appointment reminders, aftercare and follow-up emails",
        required=False,
        initial=False,
        help_text=(
            "Tick only if the patient said yes. Booking confirmations, changes and "
            "cancellations are emailed to the address above either way."
        ),
    )
    followup_opt_out = forms.BooleanField(
        label="Opted out of follow-up and maintenance emails",
        required=False,
        help_text="They still get booking confirmations and reminders if they consent above.",
    )
    notes = forms.CharField(
        max_length=NOTES_MAX_LENGTH,
        label="Notes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Not clinical notes: those belong in the assessment.",
    )

    def __init__(
        self, *args: Any, today: dt.date, submit_label: str, cancel_url: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        oldest = dt.date(today.year - OLDEST_AGE_YEARS, 1, 1)
        self.fields["date_of_birth"].widget.attrs.update(
            {"max": today.isoformat(), "min": oldest.isoformat()}
        )
        self.helper = FormHelper()
        self.helper.form_id = "patient-form"
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Div(
                Div(Field("given_name", autocomplete="off"), css_class="col-md-5"),
                Div(Field("family_name", autocomplete="off"), css_class="col-md-5"),
                css_class="row",
            ),
            Div(Div(Field("date_of_birth"), css_class="col-md-4"), css_class="row"),
            Div(
                Div(Field("email"), css_class="col-md-6"),
                Div(Field("phone"), css_class="col-md-4"),
                css_class="row",
            ),
            Field("preferred_contact"),
            Field("email_reminders"),
            Field("followup_opt_out"),
            Field("notes"),
            Div(
                Submit("save", submit_label, css_class="btn-clinic"),
                HTML(f'<a class="btn btn-link" href="{cancel_url}">Cancel</a>'),
                css_class="d-flex gap-2 mt-3",
            ),
        )

    def clean_given_name(self) -> str:
        return " ".join(self.cleaned_data["given_name"].split())

    def clean_family_name(self) -> str:
        return " ".join(self.cleaned_data["family_name"].split())

    def clean_date_of_birth(self) -> dt.date:
        born = self.cleaned_data["date_of_birth"]
        problem = date_of_birth_problem(born, today=self.today)
        if problem:
            raise forms.ValidationError(problem)
        return born

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_phone(self) -> str:
        try:
            return normalise_phone(self.cleaned_data["phone"], region=settings.CLINIC_PHONE_REGION)
        except InvalidPhoneNumber as error:
            raise forms.ValidationError(error.message) from None

    def details(self) -> PatientDetails:
        return PatientDetails(**{name: self.cleaned_data[name] for name in DETAIL_FIELDS})

    @staticmethod
    def initial_for(patient: Any) -> dict[str, Any]:
        return {name: getattr(patient, name) for name in DETAIL_FIELDS}
