"""Forms for logging, amending and signing treatment sessions.

The parameter fields are built from the treatment type's ``parameter_schema``: each checks
its value with :func:`treatments.parameters.clean_value`, so the form and the service say the
same thing ("Passes must be between 1 and 3.").
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from crispy_forms.bootstrap import InlineCheckboxes, InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms

from clinic import clock
from clinic.date_input import DayField
from clinic.limits import NOTES_MAX_LENGTH, REASON_MAX_LENGTH
from clinic.models import Practitioner
from treatments import rules
from treatments.choices import Redness, TreatedArea
from treatments.models import TreatmentType
from treatments.parameters import NUMERIC_KINDS, ParameterKind, ParameterSpec, clean_value
from treatments.services.sessions import (
    MAX_DURATION_MINUTES,
    MIN_DURATION_MINUTES,
    SessionRecord,
)

PARAMETER_PREFIX = "param_"
COMFORT_CHOICES = [
    ("", "Not recorded"),
    ("1", "1 - painful"),
    ("2", "2 - uncomfortable"),
    ("3", "3 - some discomfort"),
    ("4", "4 - mostly comfortable"),
    ("5", "5 - comfortable"),
]


class ParameterField(forms.Field):
    """A session parameter checked against its spec (range, step, options)."""

    def __init__(self, spec: ParameterSpec, **kwargs: Any) -> None:
        self.spec = spec
        kwargs.setdefault("label", f"{spec.label} ({spec.unit})" if spec.unit else spec.label)
        kwargs.setdefault("required", spec.required)
        kwargs.setdefault("help_text", spec.range_text)
        if spec.kind == ParameterKind.CHOICE:
            options = [(choice, choice) for choice in spec.choices]
            kwargs.setdefault("widget", forms.Select(choices=[("", "Choose..."), *options]))
        elif spec.kind in NUMERIC_KINDS:
            attrs: dict[str, Any] = {"inputmode": "decimal"}
            if spec.minimum is not None:
                attrs["min"] = str(spec.minimum)
            if spec.maximum is not None:
                attrs["max"] = str(spec.maximum)
            attrs["step"] = (
                str(spec.step)
                if spec.step is not None
                else ("1" if spec.kind == ParameterKind.INT else "any")
            )
            kwargs.setdefault("widget", forms.NumberInput(attrs=attrs))
        else:
            kwargs.setdefault("widget", forms.TextInput(attrs={"maxlength": 100}))
        super().__init__(**kwargs)
        self.error_messages["required"] = f"Enter the {spec.label.lower()}."

    def clean(self, value: Any) -> Any:
        if value in self.empty_values and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        try:
            return clean_value(self.spec, value)
        except rules.DomainError as error:
            raise forms.ValidationError(error.message, code="invalid") from None


class SessionForm(forms.Form):
    """What was done at a session; the parameter fields depend on the treatment type."""

    practitioner = forms.ModelChoiceField(
        queryset=Practitioner.objects.none(), label="Practitioner", empty_label=None
    )
    performed_on = DayField(
        label="Date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    performed_time = forms.TimeField(
        label="Time", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    areas = forms.MultipleChoiceField(
        choices=TreatedArea.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Treated areas",
        error_messages={"required": "Choose at least one treated area."},
    )
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)",
        min_value=MIN_DURATION_MINUTES,
        max_value=MAX_DURATION_MINUTES,
        error_messages={
            "min_value": f"Duration must be between {MIN_DURATION_MINUTES} and "
            f"{MAX_DURATION_MINUTES} minutes.",
            "max_value": f"Duration must be between {MIN_DURATION_MINUTES} and "
            f"{MAX_DURATION_MINUTES} minutes.",
        },
    )
    redness = forms.ChoiceField(
        choices=Redness.choices, widget=forms.RadioSelect, label="Redness straight after"
    )
    swelling = forms.BooleanField(required=False, label="Swelling")
    other_response = forms.CharField(required=False, max_length=300, label="Other skin response")
    comfort = forms.TypedChoiceField(
        choices=COMFORT_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        label="Patient comfort",
    )
    notes = forms.CharField(
        max_length=NOTES_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Clinical notes",
    )
    aftercare_additions = forms.CharField(
        max_length=NOTES_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Your additions to the aftercare note",
        help_text="Added below the treatment's standard aftercare advice when you sign.",
    )
    spacing_override_reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Spacing override (practitioners only)",
        help_text=(
            "Only for a session inside the minimum interval: record why it is clinically "
            "right. Left empty, a session that is too soon is refused."
        ),
    )

    submit_label = "Save the session"
    with_aftercare = True

    def __init__(
        self,
        *args: Any,
        treatment_type: TreatmentType,
        can_override: bool,
        current_practitioner_id: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        practitioners = Practitioner.objects.filter(is_active=True)
        if current_practitioner_id:
            practitioners = practitioners | Practitioner.objects.filter(pk=current_practitioner_id)
        cast(
            forms.ModelChoiceField, self.fields["practitioner"]
        ).queryset = practitioners.distinct().order_by("display_name")
        self.treatment_type = treatment_type
        self.parameter_specs = treatment_type.parameter_specs
        for spec in self.parameter_specs:
            self.fields[PARAMETER_PREFIX + spec.name] = ParameterField(spec)
        if not can_override:
            del self.fields["spacing_override_reason"]
        if not self.with_aftercare:
            del self.fields["aftercare_additions"]
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = self._layout()
        self.helper.add_input(Submit("submit", self.submit_label, css_class="btn-clinic"))

    def _layout(self) -> Layout:
        parameter_columns = [
            Column(PARAMETER_PREFIX + spec.name, css_class="col-sm-6 col-lg-3")
            for spec in self.parameter_specs
        ]
        parts: list[Any] = [
            Fieldset(
                "When and who",
                Row(
                    Column("practitioner", css_class="col-md-4"),
                    Column("performed_on", css_class="col-md-3"),
                    Column("performed_time", css_class="col-md-2"),
                    Column("duration_minutes", css_class="col-md-3"),
                ),
                InlineCheckboxes("areas"),
            ),
            Fieldset(f"{self.treatment_type.name} settings", Row(*parameter_columns)),
            Fieldset(
                "Skin response",
                Row(
                    Column(InlineRadios("redness"), css_class="col-md-4"),
                    Column("swelling", css_class="col-md-2"),
                    Column("comfort", css_class="col-md-3"),
                    Column("other_response", css_class="col-md-3"),
                ),
            ),
            Fieldset("Notes", *self._note_fields()),
        ]
        if "spacing_override_reason" in self.fields:
            parts.append(Fieldset("Spacing", "spacing_override_reason"))
        return Layout(*parts)

    def _note_fields(self) -> list[str]:
        return [name for name in ("notes", "aftercare_additions") if name in self.fields]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        day, time = cleaned.get("performed_on"), cleaned.get("performed_time")
        if day is not None and time is not None:
            cleaned["performed_at"] = dt.datetime.combine(day, time, tzinfo=clock.clinic_tz())
        return cleaned

    def parameter_values(self) -> dict[str, Any]:
        return {
            spec.name: self.cleaned_data.get(PARAMETER_PREFIX + spec.name)
            for spec in self.parameter_specs
            if self.cleaned_data.get(PARAMETER_PREFIX + spec.name) not in (None, "")
        }

    def record(self) -> SessionRecord:
        data = self.cleaned_data
        return SessionRecord(
            practitioner=data["practitioner"],
            performed_at=data["performed_at"],
            areas=list(data["areas"]),
            parameters=self.parameter_values(),
            duration_minutes=data["duration_minutes"],
            redness=data["redness"],
            swelling=bool(data.get("swelling")),
            other_response=data.get("other_response", ""),
            comfort=data.get("comfort"),
            notes=data.get("notes", ""),
            aftercare_additions=data.get("aftercare_additions", ""),
        )

    def add_service_errors(self, errors: dict[str, str], message: str) -> None:
        """Show a service's refusal next to the fields it names (or above the form)."""
        if not errors:
            self.add_error(None, message)
            return
        for name, text in errors.items():
            field = name
            if name.startswith("parameters."):
                field = PARAMETER_PREFIX + name.removeprefix("parameters.")
            elif name == "performed_at":
                field = "performed_on"
            self.add_error(field if field in self.fields else None, text)


def session_initial(session: Any) -> dict[str, Any]:
    """Form values of an existing session (editing a draft, amending a signed one)."""
    local = session.performed_at.astimezone(clock.clinic_tz())
    initial = {
        "practitioner": session.practitioner_id,
        "performed_on": local.date(),
        "performed_time": local.time().replace(second=0, microsecond=0),
        "areas": list(session.areas),
        "duration_minutes": session.duration_minutes,
        "redness": session.redness,
        "swelling": session.swelling,
        "other_response": session.other_response,
        "comfort": session.comfort,
        "notes": session.notes,
        "aftercare_additions": session.aftercare_additions,
        "spacing_override_reason": session.spacing_override_reason,
    }
    initial.update(
        {PARAMETER_PREFIX + name: value for name, value in (session.parameters or {}).items()}
    )
    return initial


class SessionAmendForm(SessionForm):
    """A signed session's values plus the reason for changing them."""

    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        label="Reason for the amendment",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give the reason for the amendment."},
    )
    submit_label = "Save the amendment"
    # The aftercare note was given at signing and is not rewritten.
    with_aftercare = False

    def _layout(self) -> Layout:
        layout = super()._layout()
        layout.fields.insert(0, Fieldset("Why", "reason"))
        return layout
