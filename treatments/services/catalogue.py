"""Managers maintain the treatment catalogue: spacing, durations, parameters, aftercare."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from clinic import audit
from clinic.errors import BAD_INPUT
from clinic.models import AuditAction, Room
from treatments import rules
from treatments.choices import Modality
from treatments.models import TreatmentType
from treatments.parameters import SchemaError, parse_schema, schema_as_json

# Field -> (lowest, highest) for the numbers a manager types in.
NUMBER_RANGES: dict[str, tuple[int, int]] = {
    "default_duration_minutes": (rules.MIN_DURATION_MINUTES, rules.MAX_DURATION_MINUTES),
    "extra_area_minutes": (0, 120),
    "buffer_minutes": (0, 120),
    "min_interval_days": (1, 365),
    "max_interval_days": (1, 365),
    "maintenance_interval_days": (1, 365),
    "sessions_mild": (1, 30),
    "sessions_moderate": (1, 30),
    "sessions_severe": (1, 30),
}
FIELD_LABELS = {
    "default_duration_minutes": "The face duration",
    "extra_area_minutes": "The time per extra area",
    "buffer_minutes": "The cleanup time",
    "min_interval_days": "The minimum interval",
    "max_interval_days": "The maximum interval",
    "maintenance_interval_days": "The maintenance interval",
    "sessions_mild": "Sessions for mild concerns",
    "sessions_moderate": "Sessions for moderate concerns",
    "sessions_severe": "Sessions for severe concerns",
}
EDITABLE_FIELDS = (
    "name",
    "modality",
    "description",
    *NUMBER_RANGES,
    "aftercare_template",
    "is_active",
)


class CatalogueError(rules.DomainError):
    """A treatment type the rules refuse.

    ``errors`` maps form fields to messages; ``parameter_errors`` maps parameter rows (by
    index, ``None`` for the list as a whole) to messages.
    """

    code = "catalogue_refused"
    http_status = BAD_INPUT

    def __init__(
        self,
        errors: Mapping[str, str],
        parameter_errors: Mapping[int | None, list[str]] | None = None,
    ) -> None:
        self.errors = dict(errors)
        self.parameter_errors = dict(parameter_errors or {})
        messages = [*self.errors.values()]
        messages += [m for row in self.parameter_errors.values() for m in row]
        super().__init__(" ".join(messages))


def _check_values(values: Mapping[str, Any], *, instance_pk: int | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    name = str(values.get("name") or "").strip()
    if not name:
        errors["name"] = "Enter the treatment's name."
    # Types: pk=None (a new row) excludes nothing.
    elif TreatmentType.objects.filter(name__iexact=name).exclude(pk=instance_pk).exists():  # type: ignore[misc]
        errors["name"] = f"There is already a treatment called {name}."
    if values.get("modality") not in Modality.values:
        errors["modality"] = "Choose the modality."
    for field, (lowest, highest) in NUMBER_RANGES.items():
        number = values.get(field)
        if not isinstance(number, int) or not lowest <= number <= highest:
            errors[field] = f"{FIELD_LABELS[field]} must be between {lowest} and {highest}."
    intervals_given = "min_interval_days" not in errors and "max_interval_days" not in errors
    if intervals_given and values["max_interval_days"] < values["min_interval_days"]:
        errors["max_interval_days"] = (
            f"The maximum interval ({values['max_interval_days']} days) must not be shorter "
            f"than the minimum ({values['min_interval_days']} days)."
        )
    counts = [values.get(f"sessions_{severity}") for severity in ("mild", "moderate", "severe")]
    counts_given = not any(f"sessions_{s}" in errors for s in ("mild", "moderate", "severe"))
    # Types: counts_given: all three counts are set.
    if counts_given and not counts[0] <= counts[1] <= counts[2]:  # type: ignore[operator]
        errors["sessions_severe"] = (
            "More severe concerns need at least as many sessions: mild "
            f"{counts[0]}, moderate {counts[1]}, severe {counts[2]}."
        )
    if not str(values.get("aftercare_template") or "").strip():
        errors["aftercare_template"] = (
            "Write the aftercare template: every signed session gives the patient this note."
        )
    return errors


@transaction.atomic(durable=True)
def treatment_type_save(
    *,
    treatment_type: TreatmentType | None,
    values: Mapping[str, Any],
    parameters: list[dict[str, Any]],
    rooms: Iterable[Room],
) -> TreatmentType:
    """Create (``treatment_type=None``) or change a treatment type.

    Invariants: a unique name; intervals 1 <= minimum <= maximum; session counts growing with
    severity; a parameter list with unique names and valid ranges (min <= max); an aftercare
    template; a duration within ``rules.MIN_DURATION_MINUTES`` and ``MAX_DURATION_MINUTES``;
    non-negative extra-area and cleanup minutes. Sessions already logged keep the values they
    recorded. Every save is audited.
    """
    instance_pk = treatment_type.pk if treatment_type else None
    errors = _check_values(values, instance_pk=instance_pk)
    parameter_errors: dict[int | None, list[str]] = {}
    specs = []
    try:
        specs = parse_schema(parameters)
    except SchemaError as error:
        parameter_errors = error.errors
    if errors or parameter_errors:
        raise CatalogueError(errors, parameter_errors)
    before = None
    if treatment_type is None:
        treatment_type = TreatmentType()
    else:
        treatment_type = TreatmentType.objects.select_for_update().get(pk=treatment_type.pk)
        before = _audited(treatment_type)
    for field in EDITABLE_FIELDS:
        if field in values:
            value = values[field]
            setattr(treatment_type, field, value.strip() if isinstance(value, str) else value)
    treatment_type.parameter_schema = schema_as_json(specs)
    treatment_type.save()
    treatment_type.rooms.set(list(rooms))
    audit.record(
        action=AuditAction.CREATE if before is None else AuditAction.CHANGE,
        obj=treatment_type,
        before=before,
        after=_audited(treatment_type),
    )
    return treatment_type


def _audited(treatment_type: TreatmentType) -> dict[str, Any]:
    """What the trail keeps of a treatment type: its fields and the rooms that host it."""
    return {
        **audit.snapshot(treatment_type),
        "rooms": sorted(treatment_type.rooms.values_list("pk", flat=True)),
    }
