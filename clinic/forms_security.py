"""Forms for the two-factor sign-in steps and the audit report filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError

from clinic.date_input import DayField
from clinic.models import AuditAction


class OneTimeCodeForm(forms.Form):
    token = forms.CharField(
        label="Six-digit code from your authenticator app",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def __init__(self, *args: Any, submit_label: str = "Verify", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", submit_label))

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split())
        if not token.isdigit() or len(token) != 6:
            raise ValidationError("Enter the six digits your authenticator app shows.")
        return token


class AuditFilterForm(forms.Form):
    patient = forms.IntegerField(label="Patient number", required=False, min_value=1)
    user = forms.CharField(label="Staff username", required=False, max_length=150)
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any action"), *AuditAction.choices]
    )
    date_from = DayField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = DayField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        start: dt.date | None = cleaned.get("date_from")
        end: dt.date | None = cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date must be on or after the start date.")
        return cleaned


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A multiple choice of rows that answers an absurd id with a form error.

    Django looks the chosen ids up with ``pk__in``, which (unlike an exact lookup) passes
    an integer beyond 64 bits straight to the database driver: SQLite raises OverflowError,
    a 500. Such an id cannot name a row, so it is refused as an invalid choice first.
    """

    LIMIT = 2**63 - 1

    def _check_values(self, value: Any) -> Any:
        for item in value:
            try:
                number = int(str(item))
            except ValueError:
                continue  # the parent says "is not a valid value"
            if not -self.LIMIT <= number <= self.LIMIT:
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": item},
                )
        # Types: a private Django method the stubs leave out.
        return super()._check_values(value)  # type: ignore[misc]
