"""The outbox filters: kind, status, patient, and a range of days."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from clinic.date_input import DayField
from clinic.models import MessageKind, MessageStatus


class OutboxFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "Any kind"), *MessageKind.choices]
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *MessageStatus.choices]
    )
    patient = forms.CharField(
        label="Patient or address",
        required=False,
        max_length=100,
        help_text="Name, email address or patient number",
    )
    date_from = DayField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = DayField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_patient(self) -> str:
        return " ".join(self.cleaned_data["patient"].split())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        start: dt.date | None = cleaned.get("date_from")
        end: dt.date | None = cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date must be on or after the start date.")
        return cleaned
