"""Forms for the treatment catalogue: the treatment type and its parameter rows."""

from __future__ import annotations

from typing import Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.forms.models import fields_for_model, model_to_dict

from clinic.forms_security import BoundedModelMultipleChoiceField
from clinic.models import Room
from treatments.models import TreatmentType
from treatments.parameters import MAX_PARAMETERS, NUMERIC_KINDS, ParameterKind
from treatments.services.catalogue import NUMBER_RANGES

TREATMENT_TYPE_FIELDS = [
    "name",
    "modality",
    "description",
    "default_duration_minutes",
    "extra_area_minutes",
    "buffer_minutes",
    "min_interval_days",
    "max_interval_days",
    "maintenance_interval_days",
    "sessions_mild",
    "sessions_moderate",
    "sessions_severe",
    "aftercare_template",
    "is_active",
]
LABELS = {
    "default_duration_minutes": "Face duration (minutes)",
    "extra_area_minutes": "Extra minutes per added area",
    "buffer_minutes": "Cleanup after each appointment (minutes)",
    "min_interval_days": "Minimum days between series sessions",
    "max_interval_days": "Maximum days between series sessions",
    "maintenance_interval_days": "Maintenance interval (days)",
    "sessions_mild": "Sessions for mild concerns",
    "sessions_moderate": "Sessions for moderate concerns",
    "sessions_severe": "Sessions for severe concerns",
    "is_active": "Offered (can be planned and booked)",
}
HELP_TEXTS = {
    "default_duration_minutes": "A face alone; neck, chest or other areas add time.",
    "extra_area_minutes": "Added for each area beyond the first.",
    "buffer_minutes": "Kept free after each appointment.",
    "min_interval_days": "Sessions closer than this are refused.",
    "max_interval_days": "Sessions later than this are flagged overdue.",
    "maintenance_interval_days": "Upkeep after the series, about monthly.",
    "sessions_mild": "Suggested when planning, from the assessment's worst concern.",
    "sessions_moderate": "",
    "sessions_severe": "",
    "aftercare_template": (
        "Given to the patient after every signed session, followed by the practitioner's "
        "own additions."
    ),
}
WIDGETS = {
    "description": forms.Textarea(attrs={"rows": 2}),
    "aftercare_template": forms.Textarea(attrs={"rows": 14}),
}


class TreatmentTypeForm(forms.Form):
    """The treatment type's own fields (shape only); the catalogue service checks the rules
    (unique name, minimum <= maximum, counts by severity) and saves."""

    def __init__(self, *args: Any, instance: TreatmentType | None = None, **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **model_to_dict(instance, fields=TREATMENT_TYPE_FIELDS),
                "rooms": [room.pk for room in instance.rooms.all()],
            }
        super().__init__(*args, **kwargs)
        self.fields.update(
            fields_for_model(
                TreatmentType,
                fields=TREATMENT_TYPE_FIELDS,
                labels=LABELS,
                help_texts=HELP_TEXTS,
                # Types: dict is invariant: a dict of Textarea is a dict of widgets here.
                widgets=WIDGETS,  # type: ignore[arg-type]
            )
        )
        for name in NUMBER_RANGES:
            lowest, highest = NUMBER_RANGES[name]
            message = f"{LABELS[name]} must be between {lowest} and {highest}."
            field = cast(forms.IntegerField, self.fields[name])
            field.min_value, field.max_value = lowest, highest
            field.widget.attrs.update({"min": lowest, "max": highest})
            field.validators = [
                MinValueValidator(lowest, message=message),
                MaxValueValidator(highest, message=message),
            ]
        self.fields["aftercare_template"].required = True
        self.fields["aftercare_template"].error_messages["required"] = (
            "Write the aftercare template: every signed session gives the patient this note."
        )
        rooms = Room.objects.filter(is_active=True)
        if instance is not None and instance.pk:
            # Keep a retired room that is still assigned visible and ticked.
            rooms = rooms | Room.objects.filter(treatment_types=instance)
        self.fields["rooms"] = BoundedModelMultipleChoiceField(
            queryset=rooms.distinct().order_by("name"),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label="Rooms that can host it",
            help_text="Rooms with the equipment for this treatment.",
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Fieldset(
                "Treatment",
                Row(Column("name", css_class="col-md-6"), Column("modality", css_class="col-md-6")),
                "description",
                "is_active",
            ),
            Fieldset(
                "Duration",
                Row(
                    Column("default_duration_minutes", css_class="col-md-4"),
                    Column("extra_area_minutes", css_class="col-md-4"),
                    Column("buffer_minutes", css_class="col-md-4"),
                ),
            ),
            Fieldset(
                "Series spacing",
                Row(
                    Column("min_interval_days", css_class="col-md-4"),
                    Column("max_interval_days", css_class="col-md-4"),
                    Column("maintenance_interval_days", css_class="col-md-4"),
                ),
            ),
            Fieldset(
                "Sessions suggested by severity",
                Row(
                    Column("sessions_mild", css_class="col-md-4"),
                    Column("sessions_moderate", css_class="col-md-4"),
                    Column("sessions_severe", css_class="col-md-4"),
                ),
            ),
            Fieldset("Rooms", "rooms"),
            Fieldset("Aftercare", "aftercare_template"),
        )

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in TREATMENT_TYPE_FIELDS}


class ParameterRowForm(forms.Form):
    """One session parameter: what it is called, its type and the values it accepts."""

    name = forms.CharField(
        max_length=40,
        label="Name (internal)",
        help_text="Lower case, e.g. crystal_flow.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    label = forms.CharField(max_length=60, label="Label staff see")
    kind = forms.ChoiceField(choices=ParameterKind.choices, label="Type", initial=ParameterKind.INT)
    minimum = forms.DecimalField(label="Lowest", required=False, max_digits=8, decimal_places=3)
    maximum = forms.DecimalField(label="Highest", required=False, max_digits=8, decimal_places=3)
    step = forms.DecimalField(
        label="Step", required=False, max_digits=8, decimal_places=3, help_text="Decimals only."
    )
    choices = forms.CharField(
        label="Options", required=False, max_length=300, help_text="Comma-separated."
    )
    unit = forms.CharField(label="Unit", required=False, max_length=20)
    required = forms.BooleanField(label="Required", required=False, initial=True)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        kind = cleaned.get("kind")
        minimum, maximum = cleaned.get("minimum"), cleaned.get("maximum")
        if kind in NUMERIC_KINDS:
            if minimum is None:
                self.add_error("minimum", "Enter the lowest valid value.")
            if maximum is None:
                self.add_error("maximum", "Enter the highest valid value.")
            if minimum is not None and maximum is not None and minimum > maximum:
                self.add_error("maximum", "The highest value must not be below the lowest.")
        if kind == ParameterKind.CHOICE and not cleaned.get("choices", "").strip():
            self.add_error("choices", "List the options, separated by commas.")
        return cleaned

    def as_schema_entry(self) -> dict[str, Any]:
        data = self.cleaned_data
        entry: dict[str, Any] = {
            "name": data["name"].strip(),
            "label": data["label"].strip(),
            "type": data["kind"],
            "unit": data.get("unit", "").strip(),
            "required": bool(data.get("required")),
        }
        if data["kind"] in NUMERIC_KINDS:
            entry["min"] = data.get("minimum")
            entry["max"] = data.get("maximum")
            if data.get("step") is not None:
                entry["step"] = data["step"]
        if data["kind"] == ParameterKind.CHOICE:
            entry["choices"] = data.get("choices", "")
        return entry

    @classmethod
    def initial_from_schema(cls, entry: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": entry.get("name", ""),
            "label": entry.get("label", ""),
            "kind": entry.get("type", ParameterKind.INT),
            "minimum": entry.get("min"),
            "maximum": entry.get("max"),
            "step": entry.get("step"),
            "choices": ", ".join(str(choice) for choice in entry.get("choices", [])),
            "unit": entry.get("unit", ""),
            "required": entry.get("required", True) is not False,
        }


class BaseParameterFormSet(forms.BaseFormSet):
    def kept_forms(self) -> list[ParameterRowForm]:
        """Existing rows and filled-in new rows, in order, without those marked for removal."""
        return [
            form
            for index, form in enumerate(self.forms)
            if (index < self.initial_form_count() or form.has_changed())
            # Types: a private formset method the stubs leave out.
            and not self._should_delete_form(form)  # type: ignore[attr-defined]
        ]

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        seen: dict[str, int] = {}
        for index, form in enumerate(self.kept_forms()):
            name = form.cleaned_data.get("name", "").strip()
            if name in seen:
                form.add_error(
                    "name",
                    f"Parameter {seen[name] + 1} already uses the name {name!r}; each name "
                    "must be unique.",
                )
            else:
                seen[name] = index

    def schema_entries(self) -> list[dict[str, Any]]:
        """The rows kept (filled in and not marked for removal), in order."""
        return [form.as_schema_entry() for form in self.kept_forms()]


ParameterFormSet = forms.formset_factory(
    ParameterRowForm,
    formset=BaseParameterFormSet,
    extra=1,
    can_delete=True,
    max_num=MAX_PARAMETERS,
    validate_max=True,
)


def parameter_formset(
    *, data: Any = None, schema: list[dict[str, Any]] | None = None
) -> BaseParameterFormSet:
    initial = [ParameterRowForm.initial_from_schema(entry) for entry in schema or []]
    formset = ParameterFormSet(data=data, initial=initial, prefix="parameters")
    for form in formset.forms:
        form.fields["DELETE"].label = "Remove"
    # Types: formset_factory builds this class.
    return formset  # type: ignore[return-value]
