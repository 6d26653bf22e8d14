"""The audit trail in the clinic's words, for the audit report and its CSV export.

An entry stores ids, field names and JSON values (UTC ISO times, choice values, booleans):
what the hash chain needs. Managers read patients' names, the fields' labels (the models'
verbose names), choice labels and times in the clinic's time zone. :func:`audit_rows` turns a
page of entries into that with a fixed number of queries: one for the patients' names and
one per kind of named record (practitioner, room, treatment type, user) the page mentions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models
from django.utils.dateparse import parse_date, parse_datetime, parse_time
from django.utils.formats import date_format
from django.utils.text import capfirst

from clinic import audit, formats
from clinic.models import AuditEntry, Patient

EMPTY = "—"
# A linked record shows this field as its name; models without one show "#id".
NAME_FIELDS = ("display_name", "name", "username")


@dataclass(frozen=True)
class Change:
    label: str
    before: str | None  # None: the entry has no "before" for this field (a creation)
    after: str | None


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    patient_name: str  # "" when the entry is about no patient
    record: str  # "Appointment 12"
    changes: list[Change]

    def changes_text(self) -> str:
        """One line for the CSV: "Label: before → after; ..."."""
        return "; ".join(
            f"{change.label}: "
            + (f"{change.before} → " if change.before is not None else "")
            + (change.after if change.after is not None else EMPTY)
            for change in self.changes
        )


def _model(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type) if "." in object_type else None
    except (LookupError, ValueError):
        return None


def _fields(model: type[models.Model] | None) -> dict[str, models.Field]:
    """Payload keys are attnames (``practitioner_id``), as ``audit.snapshot`` writes them."""
    if model is None:
        return {}
    return {field.attname: field for field in model._meta.concrete_fields}


def _name_field(model: type[models.Model]) -> str:
    names = {field.name for field in model._meta.concrete_fields}
    return next((name for name in NAME_FIELDS if name in names), "")


def _names(wanted: dict[type[models.Model], set[Any]]) -> dict[tuple[str, str], str]:
    """``(model label, str(pk)) -> name`` for the linked records: one query per model."""
    names: dict[tuple[str, str], str] = {}
    for model, ids in wanted.items():
        label = model._meta.label_lower
        if model is Patient:
            rows = Patient.objects.filter(pk__in=ids).values_list("pk", "given_name", "family_name")
            names.update({(label, str(pk)): f"{given} {family}" for pk, given, family in rows})
            continue
        name_field = _name_field(model)
        if name_field:
            rows = model._default_manager.filter(pk__in=ids).values_list("pk", name_field)
            names.update({(label, str(pk)): str(name) for pk, name in rows})
    return names


def _local_datetime(value: str) -> str:
    moment = parse_datetime(value)
    if moment is None:
        return value
    if moment.tzinfo is None:
        return date_format(moment, "SHORT_DATETIME_FORMAT")
    return formats.short_datetime(moment)


def _display(field: models.Field | None, value: Any, names: dict[tuple[str, str], str]) -> str:
    """One stored value as staff read it."""
    if value is None or value == "" or value == []:
        return EMPTY
    if field is None:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if field.is_relation and field.related_model is not None:
        # Types: the relations shown point at concrete models.
        label = field.related_model._meta.label_lower  # type: ignore[union-attr]
        return names.get((label, str(value)), f"#{value}")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField):
        return "Yes" if value else "No"
    if isinstance(value, str) and isinstance(field, models.DateTimeField):
        return _local_datetime(value)
    if isinstance(value, str) and isinstance(field, models.DateField):
        day = parse_date(value)
        return formats.short_date(day) if day else value
    if isinstance(value, str) and isinstance(field, models.TimeField):
        moment = parse_time(value)
        return formats.clock_time(moment) if isinstance(moment, dt.time) else value
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _label(key: str, field: models.Field | None) -> str:
    if field is None:
        return capfirst(key.replace("_", " "))
    return capfirst(str(field.verbose_name))


def audit_rows(entries: Iterable[AuditEntry]) -> list[AuditRow]:
    """The report's rows for a page of entries, with names read in bulk (no query per row)."""
    entries = list(entries)
    payloads = [(audit.decoded(entry.before), audit.decoded(entry.after)) for entry in entries]
    models_of = [_model(entry.object_type) for entry in entries]

    wanted: dict[type[models.Model], set[Any]] = defaultdict(set)
    for entry, (before, after), model in zip(entries, payloads, models_of, strict=True):
        if entry.patient_id:
            wanted[Patient].add(entry.patient_id)
        fields = _fields(model)
        for key, value in [*before.items(), *after.items()]:
            field = fields.get(key)
            if value not in (None, "") and field is not None and field.is_relation:
                related = field.related_model
                # Types: the relations shown point at concrete models.
                if related is Patient or _name_field(related):  # type: ignore[arg-type]
                    # Types: the relations shown point at concrete models.
                    wanted[related].add(value)  # type: ignore[index]
    names = _names(wanted)

    patient_label = Patient._meta.label_lower
    rows = []
    for entry, (before, after), model in zip(entries, payloads, models_of, strict=True):
        fields = _fields(model)
        changes = [
            Change(
                label=_label(key, fields.get(key)),
                before=_display(fields.get(key), before[key], names) if key in before else None,
                after=_display(fields.get(key), after[key], names) if key in after else None,
            )
            for key in sorted({*before, *after})
        ]
        if model is not None:
            record = capfirst(str(model._meta.verbose_name))
            record = f"{record} {entry.object_id}" if entry.object_id else record
        else:
            record = f"{entry.object_type} {entry.object_id}".strip()
        patient_name = ""
        if entry.patient_id:
            patient_name = names.get((patient_label, str(entry.patient_id)), "")
            patient_name = patient_name or f"Patient #{entry.patient_id} (deleted)"
        rows.append(
            AuditRow(entry=entry, patient_name=patient_name, record=record, changes=changes)
        )
    return rows
