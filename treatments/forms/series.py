"""Forms for planning, re-planning and stopping a treatment series."""

from __future__ import annotations

import json
from typing import Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from clinic.date_input import DayField
from clinic.limits import REASON_MAX_LENGTH
from clinic.models import Practitioner
from treatments.choices import Concern, Severity
from treatments.models import TreatmentType
from treatments.services.series import MAX_PLANNED_SESSIONS


def _helper(submit_label: str, *, css_class: str = "btn-clinic") -> FormHelper:
    helper = FormHelper()
    helper.attrs = {"novalidate": ""}
    helper.add_input(Submit("submit", submit_label, css_class=css_class))
    return helper


def concern_choices(assessed: dict[str, str]) -> list[tuple[str, str]]:
    """Every concern, the assessed ones first and labelled with their severity."""
    severity_labels = dict(Severity.choices)
    first = [
        (value, f"{label} ({str(severity_labels.get(assessed[value], assessed[value])).lower()})")
        for value, label in Concern.choices
        if value in assessed
    ]
    rest = [(value, label) for value, label in Concern.choices if value not in assessed]
    return first + rest


class SeriesPlanForm(forms.Form):
    treatment_type = forms.ModelChoiceField(
        queryset=TreatmentType.objects.filter(is_active=True).order_by("name"),
        label="Treatment",
        empty_label=None,
    )
    targeted_concerns = forms.MultipleChoiceField(
        choices=Concern.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Concerns the series targets",
        error_messages={"required": "Choose at least one concern the series targets."},
    )
    planned_sessions = forms.IntegerField(
        min_value=1,
        max_value=MAX_PLANNED_SESSIONS,
        label="Planned number of sessions",
        error_messages={
            "min_value": f"Plan between 1 and {MAX_PLANNED_SESSIONS} sessions.",
            "max_value": f"Plan between 1 and {MAX_PLANNED_SESSIONS} sessions.",
        },
    )
    start_on = DayField(
        label="Start date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    planned_by = forms.ModelChoiceField(
        queryset=Practitioner.objects.filter(is_active=True).order_by("display_name"),
        label="Practitioner responsible",
    )
    override_reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        required=False,
        label="Override: why it is safe to treat despite the screening",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args: Any,
        assessed_concerns: dict[str, str],
        suggestions: dict[int, int],
        needs_override: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["targeted_concerns"]).choices = concern_choices(
            assessed_concerns
        )
        # static/js/treatments.js fills in the suggested count when the treatment changes.
        self.fields["treatment_type"].widget.attrs.update(
            {"data-suggested-sessions": json.dumps({str(k): v for k, v in suggestions.items()})}
        )
        self.fields["planned_sessions"].widget.attrs["data-suggested-target"] = ""
        if needs_override:
            self.fields["override_reason"].required = True
            self.fields["override_reason"].error_messages["required"] = (
                "The latest screening says not suitable: record why it is safe to go ahead, "
                "or do not plan the series."
            )
        else:
            del self.fields["override_reason"]
        self.helper = _helper("Plan the series")


class SeriesUpdateForm(forms.Form):
    targeted_concerns = forms.MultipleChoiceField(
        choices=Concern.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Concerns the series targets",
        error_messages={"required": "Choose at least one concern the series targets."},
    )
    planned_sessions = forms.IntegerField(
        min_value=1, max_value=MAX_PLANNED_SESSIONS, label="Planned number of sessions"
    )
    start_on = DayField(
        label="Start date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(
        self, *args: Any, assessed_concerns: dict[str, str], start_locked: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["targeted_concerns"]).choices = concern_choices(
            assessed_concerns
        )
        if start_locked:
            self.fields["start_on"].disabled = True
            self.fields["start_on"].help_text = "Fixed once a session is logged."
        self.helper = _helper("Save the plan")


class SeriesStopForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        label="Why is the series stopping?",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Give the reason for stopping the series."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("Stop the series", css_class="btn-danger")
