"""The skin assessment form, and its amendment variant with a required reason.

Forms check shape only (types, required fields, dates that make sense); the services decide
who may write what and compute the screening.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout
from django import forms

from clinic.limits import NOTES_MAX_LENGTH, REASON_MAX_LENGTH
from clinic.models import Patient
from treatments.choices import (
    Concern,
    Contraindication,
    Fitzpatrick,
    ScarType,
    Severity,
    SkinType,
)
from treatments.services.assessments import AssessmentDetails

SEVERITY_CHOICES = [("", "Not a concern"), *Severity.choices]


def concern_field_name(concern: str) -> str:
    return f"concern_{concern}"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class AssessmentForm(forms.Form):
    assessed_on = forms.DateField(label="Assessment date", widget=DateInput())
    fitzpatrick = forms.TypedChoiceField(
        label="Fitzpatrick skin type",
        choices=Fitzpatrick.choices,
        coerce=int,
        widget=forms.RadioSelect,
        help_text="Types IV to VI carry a risk of hyperpigmentation: the screening says so.",
    )
    skin_type = forms.ChoiceField(
        label="Skin type", choices=SkinType.choices, widget=forms.RadioSelect
    )
    scar_type = forms.ChoiceField(
        label="Scar type",
        choices=ScarType.choices,
        initial=ScarType.NONE,
        widget=forms.RadioSelect,
        help_text="Microdermabrasion reaches only the epidermis: deep scars will not improve much.",
    )
    contraindications = forms.MultipleChoiceField(
        label="Tick everything that applies",
        choices=Contraindication.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    surgery_on = forms.DateField(
        label="Date of the facial surgery",
        required=False,
        widget=DateInput(),
        help_text="Leave blank if unknown: surgery with no date counts as recent.",
    )
    other_contraindication = forms.CharField(
        label="Other contraindication",
        max_length=200,
        required=False,
        help_text="Anything else to review before treating (e.g. isotretinoin in the last "
        "6 months, pregnancy). Filling this in ticks Other.",
    )
    medications = forms.CharField(
        max_length=NOTES_MAX_LENGTH,
        label="Medications",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    allergies = forms.CharField(
        max_length=NOTES_MAX_LENGTH,
        label="Allergies",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notes = forms.CharField(
        max_length=NOTES_MAX_LENGTH,
        label="Notes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    submit_label = "Save and sign"

    def __init__(
        self,
        *args: Any,
        patient: Patient,
        today: dt.date,
        allow_draft: bool = True,
        cancel_url: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.patient = patient
        self.today = today
        for concern in Concern:
            self.fields[concern_field_name(concern.value)] = forms.ChoiceField(
                label=concern.label, choices=SEVERITY_CHOICES, required=False
            )
        self.fields["assessed_on"].widget.attrs["max"] = today.isoformat()
        self.fields["surgery_on"].widget.attrs["max"] = today.isoformat()
        self.helper = self._helper(allow_draft=allow_draft, cancel_url=cancel_url)

    # -- layout ---------------------------------------------------------------------------
    def _top_fields(self) -> list[Any]:
        return []

    def _helper(self, *, allow_draft: bool, cancel_url: str) -> FormHelper:
        helper = FormHelper()
        helper.form_tag = True
        helper.attrs = {"novalidate": ""}
        concern_fields = [
            Div(Field(concern_field_name(concern.value)), css_class="col-sm-6 col-lg-4")
            for concern in Concern
        ]
        # The pressed button's name says what to do (see wants_signature).
        buttons = [
            HTML(
                '<button type="submit" name="action_sign" value="1" class="btn btn-clinic">'
                f"{self.submit_label}</button>"
            )
        ]
        if allow_draft:
            # First in the form, so pressing Enter in a field saves a draft and never signs.
            buttons.insert(
                0,
                HTML(
                    '<button type="submit" name="action_draft" value="1" '
                    'class="btn btn-outline-secondary">Save as draft</button>'
                ),
            )
        cancel = (
            HTML(f'<a class="btn btn-link" href="{cancel_url}">Cancel</a>') if cancel_url else None
        )
        helper.layout = Layout(
            *self._top_fields(),
            Fieldset(
                "Skin",
                Div(
                    Div(Field("assessed_on"), css_class="col-md-4"),
                    css_class="row",
                ),
                Div(
                    Div(Field("fitzpatrick"), css_class="col-md-6"),
                    Div(Field("skin_type"), css_class="col-md-3"),
                    Div(Field("scar_type"), css_class="col-md-3"),
                    css_class="row",
                ),
            ),
            Fieldset(
                "Concerns and their severity",
                HTML(
                    '<p class="form-text mt-0">More and worse concerns suggest more sessions.</p>'
                ),
                Div(*concern_fields, css_class="row"),
            ),
            Fieldset(
                "Contraindications",
                Field("contraindications"),
                Div(
                    Div(Field("surgery_on"), css_class="col-md-4"),
                    Div(Field("other_contraindication"), css_class="col-md-8"),
                    css_class="row",
                ),
            ),
            Fieldset(
                "Medications, allergies and notes",
                Field("medications"),
                Field("allergies"),
                Field("notes"),
            ),
            *self._bottom_fields(),
            Div(*buttons, *([cancel] if cancel else []), css_class="d-flex gap-2 mt-3"),
        )
        return helper

    def _bottom_fields(self) -> list[Any]:
        return []

    # -- checks ---------------------------------------------------------------------------
    def clean_assessed_on(self) -> dt.date:
        assessed_on = self.cleaned_data["assessed_on"]
        if assessed_on > self.today:
            raise forms.ValidationError("An assessment cannot be dated in the future.")
        if assessed_on < self.patient.date_of_birth:
            raise forms.ValidationError(
                "The assessment date is before the patient's date of birth."
            )
        return assessed_on

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        ticked = set(data.get("contraindications") or [])
        other = (data.get("other_contraindication") or "").strip()
        if other:
            ticked.add(Contraindication.OTHER.value)
        elif Contraindication.OTHER in ticked:
            self.add_error(
                "other_contraindication", "Describe the other contraindication you ticked."
            )
        data["contraindications"] = sorted(ticked)
        surgery_on = data.get("surgery_on")
        assessed_on = data.get("assessed_on")
        if surgery_on and assessed_on and surgery_on > assessed_on:
            self.add_error(
                "surgery_on",
                "The surgery date is after the assessment date. Note planned surgery under Other.",
            )
        return data

    def details(self) -> AssessmentDetails:
        data = self.cleaned_data
        concerns = {
            concern.value: data[concern_field_name(concern.value)]
            for concern in Concern
            if data.get(concern_field_name(concern.value))
        }
        return AssessmentDetails(
            assessed_on=data["assessed_on"],
            fitzpatrick=data["fitzpatrick"],
            skin_type=data["skin_type"],
            concerns=concerns,
            scar_type=data["scar_type"],
            contraindications=frozenset(data["contraindications"]),
            surgery_on=data.get("surgery_on"),
            other_contraindication=data.get("other_contraindication", "").strip(),
            medications=data.get("medications", ""),
            allergies=data.get("allergies", ""),
            notes=data.get("notes", ""),
        )

    @staticmethod
    def initial_from(details: AssessmentDetails) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "assessed_on": details.assessed_on,
            "fitzpatrick": details.fitzpatrick,
            "skin_type": details.skin_type,
            "scar_type": details.scar_type,
            "contraindications": sorted(details.contraindications),
            "surgery_on": details.surgery_on,
            "other_contraindication": details.other_contraindication,
            "medications": details.medications,
            "allergies": details.allergies,
            "notes": details.notes,
        }
        for concern, severity in details.concerns.items():
            initial[concern_field_name(concern)] = severity
        return initial

    def wants_signature(self) -> bool:
        """Only the "Save and sign" button signs; anything else keeps a draft."""
        return "action_sign" in self.data and "action_draft" not in self.data


class AmendmentForm(AssessmentForm):
    """The form for a signed assessment: every field, plus why it is being changed."""

    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        label="Reason for the amendment",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required. Kept with the amendment, with your name and the time, "
        "next to the original.",
        error_messages={"required": "Say why you are amending a signed assessment."},
    )

    submit_label = "Save amendment"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_draft"] = False
        super().__init__(*args, **kwargs)

    def _top_fields(self) -> list[Any]:
        return [
            HTML(
                '<div class="alert alert-info">This assessment is signed. Your changes are '
                "kept as an amendment: the original stays visible.</div>"
            )
        ]

    def _bottom_fields(self) -> list[Any]:
        return [Fieldset("Amendment", Field("reason"))]
