"""Booking forms: shape only (types, required, formats). Rules live in the services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet, formset_factory

from bookings.models import BookingSettings, WorkingHours
from bookings.services.availability import MAX_HORIZON_DAYS, MAX_MINIMUM_NOTICE_MINUTES
from clinic import clock
from clinic.date_input import DayField
from clinic.formats import clock_time, long_date
from clinic.forms_security import BoundedModelMultipleChoiceField
from clinic.limits import NOTES_MAX_LENGTH, REASON_MAX_LENGTH
from clinic.models import ClinicClosure, OpeningHours, Practitioner, Room, Weekday
from treatments.models import TreatmentSeries, TreatmentType

CONTROL = {"class": "form-control"}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, *, step: int = 900, **kwargs: Any) -> None:
        attrs = {"step": str(step), **kwargs.pop("attrs", {})}
        super().__init__(format="%H:%M", attrs=attrs, **kwargs)


def local_start(day: dt.date, wall: dt.time) -> dt.datetime:
    """The aware start for a clinic wall-clock time, or a form error if it does not exist."""
    moment = clock.local_datetime(day, wall)
    if moment is None:
        raise ValidationError(
            f"{clock_time(wall)} does not exist on {long_date(day)} (the clocks go forward).",
            code="nonexistent_time",
        )
    return moment


def active_practitioners() -> Any:
    return Practitioner.objects.filter(is_active=True).order_by("display_name")


def active_treatment_types() -> Any:
    return TreatmentType.objects.filter(is_active=True).order_by("name")


class PreloadedChoiceMixin:
    """A model choice field that can take its objects as an already loaded list.

    ``preload(objects)`` (the field's queryset, evaluated once by the caller, who needs the
    rows anyway) draws the options from the list and validates a choice against it, so the
    form adds no query of its own: the slot search loads the active treatment types and
    practitioners once for the form and the search."""

    _preloaded: dict[str, Any] | None = None

    def preload(self, objects: Sequence[Any]) -> None:
        self._preloaded = {str(obj.pk): obj for obj in objects}
        choices = [(obj.pk, self.label_from_instance(obj)) for obj in objects]  # type: ignore[attr-defined]
        if self.empty_label is not None:  # type: ignore[attr-defined]
            choices.insert(0, ("", self.empty_label))  # type: ignore[attr-defined]
        self.choices = choices

    def to_python(self, value: Any) -> Any:
        if self._preloaded is None:
            return super().to_python(value)  # type: ignore[misc]
        if value in self.empty_values:  # type: ignore[attr-defined]
            return None
        found = self._preloaded.get(str(getattr(value, "pk", value)))
        if found is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"],  # type: ignore[attr-defined]
                code="invalid_choice",
                params={"value": value},
            )
        return found


# Types: the mixin's choices wraps the field's own.
class PractitionerChoiceField(PreloadedChoiceMixin, forms.ModelChoiceField):  # type: ignore[misc]
    def label_from_instance(self, obj: Practitioner) -> str:
        return obj.display_name


# Types: the mixin's choices wraps the field's own.
class TreatmentTypeChoiceField(PreloadedChoiceMixin, forms.ModelChoiceField):  # type: ignore[misc]
    pass


class StartMixin:
    """Combines ``date`` and ``time`` into ``starts_at`` (aware, clinic time zone)."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # type: ignore[misc]
        day, wall = cleaned.get("date"), cleaned.get("time")
        if day and wall:
            try:
                cleaned["starts_at"] = local_start(day, wall)
            except ValidationError as error:
                self.add_error("time", error)  # type: ignore[attr-defined]
        return cleaned


class BookingForm(StartMixin, forms.Form):
    # The page shows non-field errors above the form (bookings/_form_errors.html).
    non_field_errors_shown_above = True

    patient = forms.IntegerField(widget=forms.HiddenInput)
    treatment_type = forms.ModelChoiceField(
        queryset=TreatmentType.objects.none(), label="Treatment"
    )
    series = forms.ModelChoiceField(
        queryset=TreatmentSeries.objects.none(),
        required=False,
        label="Series session",
        empty_label="Not part of a series",
        help_text="Booking the next session of a series checks its spacing window.",
    )
    practitioner = PractitionerChoiceField(queryset=Practitioner.objects.none())
    date = DayField(widget=DateInput())
    time = forms.TimeField(widget=TimeInput(), help_text="On the quarter hour, clinic time.")
    duration_minutes = forms.IntegerField(
        required=False,
        min_value=5,
        max_value=240,
        label="Length (minutes)",
        help_text="Leave empty for the treatment's usual length.",
    )
    room = forms.ModelChoiceField(
        queryset=Room.objects.none(), required=False, empty_label="Any free room that fits"
    )
    notes = forms.CharField(
        max_length=NOTES_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    suitability_override_reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Suitability override (practitioners only)",
        help_text="Needed only when the latest assessment says not suitable.",
    )
    spacing_override_reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Spacing override (practitioners only)",
        help_text="Needed only to book a session closer than the treatment's minimum interval "
        "to another of the patient's sessions.",
    )

    def __init__(self, *args: Any, patient: Any = None, can_override: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["treatment_type"]
        ).queryset = active_treatment_types()
        cast(forms.ModelChoiceField, self.fields["practitioner"]).queryset = active_practitioners()
        cast(forms.ModelChoiceField, self.fields["room"]).queryset = Room.objects.filter(
            is_active=True
        ).order_by("name")
        if patient is not None:
            cast(
                forms.ModelChoiceField, self.fields["series"]
            ).queryset = TreatmentSeries.objects.filter(
                patient=patient, status__in=("planned", "active")
            ).select_related("treatment_type")
            # Types: Django documents overriding label_from_instance per field.
            cast(forms.ModelChoiceField, self.fields["series"]).label_from_instance = (  # type: ignore[method-assign]
                # Types: Django documents overriding label_from_instance per field.
                lambda series: (  # type: ignore[assignment]
                    f"{series.treatment_type} series ({series.completed_sessions} of "
                    f"{series.planned_sessions} done)"
                )
            )
        if not can_override:
            del self.fields["suitability_override_reason"]
            del self.fields["spacing_override_reason"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        series = cleaned.get("series")
        treatment_type = cleaned.get("treatment_type")
        if (
            series is not None
            and treatment_type is not None
            and series.treatment_type_id != (treatment_type.pk)
        ):
            self.add_error(
                "series", f"This series is for {series.treatment_type}, not {treatment_type}."
            )
        return cleaned


class RescheduleForm(StartMixin, forms.Form):
    # The page shows non-field errors above the form (bookings/_form_errors.html).
    non_field_errors_shown_above = True

    date = DayField(widget=DateInput())
    time = forms.TimeField(widget=TimeInput())
    practitioner = PractitionerChoiceField(queryset=Practitioner.objects.none())
    room = forms.ModelChoiceField(
        queryset=Room.objects.none(),
        required=False,
        empty_label="Keep the room if free, else any that fits",
    )
    reason = forms.CharField(
        max_length=300, required=False, help_text="Kept in the appointment's history."
    )
    spacing_override_reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Spacing override (practitioners only)",
    )

    def __init__(self, *args: Any, can_override: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["practitioner"]).queryset = active_practitioners()
        cast(forms.ModelChoiceField, self.fields["room"]).queryset = Room.objects.filter(
            is_active=True
        ).order_by("name")
        if not can_override:
            del self.fields["spacing_override_reason"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(Column("date", css_class="col-md-4"), Column("time", css_class="col-md-3")),
            Row(Column("practitioner", css_class="col-md-6"), Column("room", css_class="col-md-6")),
            "reason",
            *(["spacing_override_reason"] if can_override else []),
        )


class CancelForm(forms.Form):
    # The page shows non-field errors above the form (bookings/_form_errors.html).
    non_field_errors_shown_above = True

    reason = forms.CharField(
        max_length=300,
        label="Reason for cancelling",
        help_text="Kept with the appointment and in its history.",
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class SlotSearchForm(forms.Form):
    treatment_type = TreatmentTypeChoiceField(
        queryset=TreatmentType.objects.none(), label="Treatment"
    )
    practitioner = PractitionerChoiceField(
        queryset=Practitioner.objects.none(), required=False, empty_label="Any practitioner"
    )
    first_day = DayField(widget=DateInput(), label="From")
    last_day = DayField(widget=DateInput(), label="To")
    patient = forms.IntegerField(widget=forms.HiddenInput, required=False)
    series = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reschedule = forms.IntegerField(widget=forms.HiddenInput, required=False)

    MAX_DAYS = 62

    def __init__(
        self,
        *args: Any,
        treatment_types: Sequence[TreatmentType] | None = None,
        practitioners: Sequence[Practitioner] | None = None,
        **kwargs: Any,
    ):
        """``treatment_types`` and ``practitioners``: the active ones, already loaded (see
        :class:`PreloadedChoiceMixin`); without them the fields query as usual."""
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["treatment_type"]
        ).queryset = active_treatment_types()
        cast(forms.ModelChoiceField, self.fields["practitioner"]).queryset = active_practitioners()
        if treatment_types is not None:
            cast(TreatmentTypeChoiceField, self.fields["treatment_type"]).preload(treatment_types)
        if practitioners is not None:
            cast(PractitionerChoiceField, self.fields["practitioner"]).preload(practitioners)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.layout = Layout(
            Row(
                Column("treatment_type", css_class="col-md-4"),
                Column("practitioner", css_class="col-md-3"),
                Column("first_day", css_class="col-md-2"),
                Column("last_day", css_class="col-md-2"),
            ),
            "patient",
            "series",
            "reschedule",
            Submit("search", "Find free times", css_class="btn-clinic"),
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        first, last = cleaned.get("first_day"), cleaned.get("last_day")
        if first and last:
            if last < first:
                self.add_error("last_day", "The end date must not be before the start date.")
            elif (last - first).days >= self.MAX_DAYS:
                self.add_error("last_day", f"Search at most {self.MAX_DAYS} days at a time.")
        return cleaned


class DayPickerForm(forms.Form):
    date = DayField(
        widget=DateInput(attrs={"data-autosubmit": "", "class": "form-control"}),
        label="Go to date",
    )


# ---------------------------------------------------------------------------------------------
# Booking the rest of a series
# ---------------------------------------------------------------------------------------------


class PlannedSessionForm(StartMixin, forms.Form):
    number = forms.IntegerField(widget=forms.HiddenInput)
    book = forms.BooleanField(required=False, initial=True, label="Book")
    date = DayField(widget=DateInput(), required=False)
    time = forms.TimeField(widget=TimeInput(), required=False)
    practitioner = PractitionerChoiceField(queryset=Practitioner.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["practitioner"]).queryset = active_practitioners()
        for name in ("date", "time"):
            self.fields[name].widget.attrs["class"] = "form-control"
        self.fields["practitioner"].widget.attrs["class"] = "form-select"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if cleaned.get("book"):
            for name in ("date", "time", "practitioner"):
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, "Needed to book this session.")
        return cleaned


class BasePlannedSessionFormSet(BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        if not any(form.cleaned_data.get("book") for form in self.forms):
            raise ValidationError("Tick at least one session to book.")


PlannedSessionFormSet = formset_factory(
    PlannedSessionForm, formset=BasePlannedSessionFormSet, extra=0
)


# ---------------------------------------------------------------------------------------------
# Availability (managers)
# ---------------------------------------------------------------------------------------------


class OpeningHoursForm(forms.ModelForm):
    """One opening span; the rules (closes after it opens, no overlap) are
    ``bookings.rules.opening_hours_problems``, applied by ``opening_hours_set``."""

    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens_at", "closes_at"]
        widgets = {
            "opens_at": TimeInput(attrs={"class": "form-control"}),
            "closes_at": TimeInput(attrs={"class": "form-control"}),
        }
        labels = {"opens_at": "Opens", "closes_at": "Closes"}

    def _post_clean(self) -> None:
        # No model validation: the rows are written by the service, which checks them.
        pass


OpeningHoursFormSet = formset_factory(OpeningHoursForm, extra=2, can_delete=True)


class ClosureForm(forms.ModelForm):
    class Meta:
        model = ClinicClosure
        fields = ["date", "reason"]
        widgets = {"date": DateInput()}
        error_messages = {"date": {"unique": "The clinic is already closed on that day."}}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(Column("date", css_class="col-md-4"), Column("reason", css_class="col-md-8"))
        )


class WorkingDayForm(forms.Form):
    """One weekday of a practitioner's week; an unticked day is a day off. The rules (the day
    ends after it starts, the break inside it, inside opening hours) are
    ``bookings.rules.working_day_problems``, applied by ``working_week_set``."""

    weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int, widget=forms.HiddenInput)
    works = forms.BooleanField(required=False, label="Works")
    starts_at = forms.TimeField(widget=TimeInput(attrs=CONTROL), required=False, label="From")
    ends_at = forms.TimeField(widget=TimeInput(attrs=CONTROL), required=False, label="To")
    break_starts_at = forms.TimeField(
        widget=TimeInput(attrs=CONTROL), required=False, label="Break from"
    )
    break_ends_at = forms.TimeField(
        widget=TimeInput(attrs=CONTROL), required=False, label="Break to"
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if not cleaned.get("works"):
            return cleaned
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if not starts:
            self.add_error("starts_at", "When does the day start?")
        if not ends:
            self.add_error("ends_at", "When does the day end?")
        return cleaned


WorkingWeekFormSet = formset_factory(WorkingDayForm, extra=0, min_num=7, max_num=7)


def working_week_initial(rows: list[WorkingHours]) -> list[dict[str, Any]]:
    by_weekday = {row.weekday: row for row in rows}
    initial = []
    for weekday in Weekday:
        row = by_weekday.get(weekday.value)
        initial.append(
            {
                "weekday": weekday.value,
                "works": row is not None,
                "starts_at": row.starts_at if row else None,
                "ends_at": row.ends_at if row else None,
                "break_starts_at": row.break_starts_at if row else None,
                "break_ends_at": row.break_ends_at if row else None,
            }
        )
    return initial


class TimeOffForm(forms.Form):
    # The page shows non-field errors above the form (bookings/_form_errors.html).
    non_field_errors_shown_above = True

    practitioner = PractitionerChoiceField(queryset=Practitioner.objects.none())
    first_day = DayField(widget=DateInput(), label="From (date)")
    first_time = forms.TimeField(
        widget=TimeInput(), required=False, label="From (time)", help_text="Empty: all day."
    )
    last_day = DayField(widget=DateInput(), label="To (date)")
    last_time = forms.TimeField(
        widget=TimeInput(), required=False, label="To (time)", help_text="Empty: end of day."
    )
    reason = forms.CharField(max_length=120, required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["practitioner"]
        ).queryset = Practitioner.objects.order_by("display_name")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column("practitioner", css_class="col-md-4"), Column("reason", css_class="col-md-8")
            ),
            Row(
                Column("first_day", css_class="col-md-3"),
                Column("first_time", css_class="col-md-3"),
                Column("last_day", css_class="col-md-3"),
                Column("last_time", css_class="col-md-3"),
            ),
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        first_day, last_day = cleaned.get("first_day"), cleaned.get("last_day")
        if not first_day or not last_day:
            return cleaned
        tz = clock.clinic_tz()
        starts = dt.datetime.combine(first_day, cleaned.get("first_time") or dt.time(0), tzinfo=tz)
        if cleaned.get("last_time"):
            ends = dt.datetime.combine(last_day, cleaned["last_time"], tzinfo=tz)
        else:
            ends = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
        if ends <= starts:
            self.add_error("last_day", "Time off must end after it starts.")
        cleaned["starts_at"], cleaned["ends_at"] = starts, ends
        return cleaned


class RoomForm(forms.ModelForm):
    treatment_types = BoundedModelMultipleChoiceField(
        queryset=TreatmentType.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Treatments this room can host",
        help_text="The device for a treatment lives in these rooms.",
    )

    class Meta:
        model = Room
        fields = ["name", "is_active"]
        labels = {"is_active": "In use"}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["treatment_types"]
        ).queryset = TreatmentType.objects.order_by("name")
        if self.instance.pk:
            self.fields["treatment_types"].initial = list(
                self.instance.treatment_types.values_list("pk", flat=True)
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class BookingSettingsForm(forms.ModelForm):
    minimum_notice_minutes = forms.IntegerField(
        min_value=0,
        max_value=MAX_MINIMUM_NOTICE_MINUTES,
        label="Minimum booking notice (minutes)",
        help_text="How long before its start an appointment can still be booked or moved to.",
    )
    horizon_days = forms.IntegerField(
        min_value=1,
        max_value=MAX_HORIZON_DAYS,
        label="Book up to (days ahead)",
        help_text="How far ahead appointments can be booked.",
    )

    class Meta:
        model = BookingSettings
        fields = ["minimum_notice_minutes", "horizon_days"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class ApiTokenForm(forms.Form):
    username = forms.CharField(max_length=150, label="Staff username")
    name = forms.CharField(max_length=80, required=False, label="What is it for?")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(Column("username", css_class="col-md-4"), Column("name", css_class="col-md-8"))
        )
