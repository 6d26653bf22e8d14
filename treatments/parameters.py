"""Session parameters a treatment type records, and their valid ranges (pure rules).

A treatment type's ``parameter_schema`` is a list of plain dicts, one per parameter::

    {"name": "passes", "label": "Passes", "type": "int", "min": 1, "max": 3}
    {"name": "depth_mm", "label": "Needle depth (mm)", "type": "decimal",
     "min": 0, "max": 2.0, "step": 0.25}
    {"name": "cartridge", "label": "Cartridge", "type": "choice", "choices": ["nano", "12", "36"]}
    {"name": "handpiece", "label": "Handpiece", "type": "text", "required": False}

``parse_schema`` checks a schema (managers edit it) and ``clean_parameters`` checks the values
a practitioner logs against it. Both speak in sentences a person can act on
("Passes must be between 1 and 3."). No database, no settings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models

from clinic.errors import BAD_INPUT
from treatments.rules import DomainError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TEXT_MAX_LENGTH = 100
MAX_PARAMETERS = 20


class ParameterKind(models.TextChoices):
    INT = "int", "Whole number"
    DECIMAL = "decimal", "Decimal number"
    CHOICE = "choice", "One of a list"
    TEXT = "text", "Short text"


NUMERIC_KINDS = frozenset({ParameterKind.INT, ParameterKind.DECIMAL})


class SchemaError(DomainError):
    """A parameter schema a manager entered cannot work. ``errors`` maps row index -> messages.

    Index ``None`` holds problems of the schema as a whole (duplicate names, too many rows).
    """

    code = "parameter_schema_invalid"
    http_status = BAD_INPUT

    def __init__(self, errors: Mapping[int | None, list[str]]) -> None:
        self.errors = {index: list(messages) for index, messages in errors.items()}
        super().__init__(" ".join(message for messages in errors.values() for message in messages))


class ParameterError(DomainError):
    """Logged values that break the schema. ``errors`` maps parameter name -> message."""

    code = "parameters_invalid"
    http_status = BAD_INPUT

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter a session records, with the values it accepts."""

    name: str
    label: str
    kind: str
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    step: Decimal | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    required: bool = True

    @property
    def range_text(self) -> str:
        """``"1-3"``, ``"nano, 12, 36"``, ``"0-2.0 in steps of 0.25"``: for help texts."""
        if self.kind == ParameterKind.CHOICE:
            return ", ".join(self.choices)
        if self.kind == ParameterKind.TEXT:
            return f"up to {TEXT_MAX_LENGTH} characters"
        text = f"{_plain(self.minimum)}-{_plain(self.maximum)}"
        if self.step is not None:
            text += f" in steps of {_plain(self.step)}"
        return f"{text} {self.unit}".strip()

    def as_dict(self) -> dict[str, Any]:
        """The JSON form stored in ``TreatmentType.parameter_schema``."""
        entry: dict[str, Any] = {"name": self.name, "label": self.label, "type": self.kind}
        if self.kind in NUMERIC_KINDS:
            entry["min"] = _json_number(self.minimum, self.kind)
            entry["max"] = _json_number(self.maximum, self.kind)
            if self.step is not None:
                entry["step"] = _json_number(self.step, self.kind)
        if self.kind == ParameterKind.CHOICE:
            entry["choices"] = list(self.choices)
        if self.unit:
            entry["unit"] = self.unit
        if not self.required:
            entry["required"] = False
        return entry


def _plain(number: Decimal | None) -> str:
    if number is None:
        return ""
    return format(number.normalize(), "f")


def _json_number(number: Decimal | None, kind: str) -> int | float | None:
    if number is None:
        return None
    if kind == ParameterKind.INT or number == number.to_integral_value():
        return int(number)
    return float(number)


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _parse_entry(entry: object, index: int) -> tuple[ParameterSpec | None, list[str]]:
    if not isinstance(entry, Mapping):
        return None, ["Each parameter must be a set of fields (name, label, type)."]
    errors: list[str] = []
    name = str(entry.get("name") or "").strip()
    label = str(entry.get("label") or "").strip()
    kind = str(entry.get("type") or "").strip()
    shown = label or name or f"Parameter {index + 1}"
    if not NAME_PATTERN.match(name):
        errors.append(
            f"{shown}: the name must start with a lower-case letter and use only a-z, 0-9 "
            "and _ (at most 40 characters), e.g. crystal_flow."
        )
    if not label:
        errors.append(f"{shown}: enter a label staff will see, e.g. Crystal flow.")
    if kind not in ParameterKind.values:
        errors.append(f"{shown}: choose a type ({', '.join(ParameterKind.values)}).")
        return None, errors

    minimum = maximum = step = None
    choices: tuple[str, ...] = ()
    if kind in NUMERIC_KINDS:
        minimum, maximum = _decimal(entry.get("min")), _decimal(entry.get("max"))
        step = _decimal(entry.get("step"))
        if minimum is None or maximum is None:
            errors.append(f"{shown}: enter both the lowest and the highest valid value.")
        elif minimum > maximum:
            errors.append(
                f"{shown}: the lowest value ({_plain(minimum)}) must not be above the "
                f"highest ({_plain(maximum)})."
            )
        if kind == ParameterKind.INT:
            for bound in (minimum, maximum):
                if bound is not None and bound != bound.to_integral_value():
                    errors.append(f"{shown}: a whole-number parameter needs whole-number limits.")
                    break
            if step is not None and step != 1:
                errors.append(f"{shown}: whole numbers go in steps of 1; leave the step empty.")
                step = None
        if step is not None and step <= 0:
            errors.append(f"{shown}: the step must be above 0.")
    elif entry.get("min") not in (None, "") or entry.get("max") not in (None, ""):
        errors.append(f"{shown}: only number parameters have a lowest and highest value.")
    if kind == ParameterKind.CHOICE:
        raw_choices = entry.get("choices") or []
        if isinstance(raw_choices, str):
            raw_choices = raw_choices.split(",")
        choices = tuple(str(choice).strip() for choice in raw_choices if str(choice).strip())
        if len(choices) < 2:
            errors.append(f"{shown}: list at least two options, separated by commas.")
        elif len({choice.casefold() for choice in choices}) != len(choices):
            errors.append(f"{shown}: each option may appear only once.")
    elif entry.get("choices"):
        errors.append(f"{shown}: only 'one of a list' parameters have options.")
    if errors:
        return None, errors
    return (
        ParameterSpec(
            name=name,
            label=label,
            kind=kind,
            minimum=minimum,
            maximum=maximum,
            step=step,
            choices=choices,
            unit=str(entry.get("unit") or "").strip(),
            required=entry.get("required", True) is not False,
        ),
        [],
    )


def parse_schema(schema: object) -> list[ParameterSpec]:
    """Every parameter of a schema, checked; :class:`SchemaError` lists all problems at once."""
    if schema in (None, ""):
        return []
    if not isinstance(schema, list):
        raise SchemaError({None: ["The parameter list must be a list of parameters."]})
    errors: dict[int | None, list[str]] = {}
    specs: list[ParameterSpec] = []
    if len(schema) > MAX_PARAMETERS:
        errors[None] = [f"A treatment type can record at most {MAX_PARAMETERS} parameters."]
    seen: dict[str, int] = {}
    for index, entry in enumerate(schema):
        spec, problems = _parse_entry(entry, index)
        if spec is not None:
            if spec.name in seen:
                problems.append(
                    f"{spec.label}: the name {spec.name!r} is already used by parameter "
                    f"{seen[spec.name] + 1}; each name must be unique."
                )
            else:
                seen[spec.name] = index
                specs.append(spec)
        if problems:
            errors[index] = problems
    if errors:
        raise SchemaError(errors)
    return specs


def schema_as_json(specs: Iterable[ParameterSpec]) -> list[dict[str, Any]]:
    return [spec.as_dict() for spec in specs]


def _range_message(spec: ParameterSpec) -> str:
    return f"{spec.label} must be between {_plain(spec.minimum)} and {_plain(spec.maximum)}."


def clean_value(spec: ParameterSpec, raw: object) -> int | float | str | None:
    """One logged value, converted to its JSON form; :class:`DomainError` says what is wrong."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if spec.required:
            raise DomainError(f"Enter the {spec.label.lower()}.")
        return None
    if spec.kind == ParameterKind.CHOICE:
        text = str(raw).strip()
        if text not in spec.choices:
            raise DomainError(f"{spec.label} must be one of {', '.join(spec.choices)}.")
        return text
    if spec.kind == ParameterKind.TEXT:
        text = str(raw).strip()
        if len(text) > TEXT_MAX_LENGTH:
            raise DomainError(f"{spec.label} must be at most {TEXT_MAX_LENGTH} characters.")
        return text
    number = _decimal(raw)
    if number is None:
        raise DomainError(f"{spec.label} must be a number. {_range_message(spec)}")
    if spec.kind == ParameterKind.INT and number != number.to_integral_value():
        raise DomainError(f"{spec.label} must be a whole number. {_range_message(spec)}")
    minimum = spec.minimum if spec.minimum is not None else number
    maximum = spec.maximum if spec.maximum is not None else number
    if not minimum <= number <= maximum:
        raise DomainError(_range_message(spec))
    if spec.step is not None and (number - minimum) % spec.step != 0:
        raise DomainError(
            f"{spec.label} must be in steps of {_plain(spec.step)} "
            f"(e.g. {_plain(minimum)}, {_plain(minimum + spec.step)})."
        )
    return _json_number(number, spec.kind)


def clean_parameters(
    specs: Iterable[ParameterSpec], values: Mapping[str, object]
) -> dict[str, int | float | str]:
    """All logged values checked against the schema; unknown names are refused too.

    Optional parameters left empty are left out of the result.
    """
    specs = list(specs)
    known = {spec.name for spec in specs}
    errors: dict[str, str] = {}
    cleaned: dict[str, int | float | str] = {}
    for spec in specs:
        try:
            value = clean_value(spec, values.get(spec.name))
        except DomainError as error:
            errors[spec.name] = error.message
            continue
        if value is not None:
            cleaned[spec.name] = value
    for name in values:
        if name not in known:
            errors[name] = f"{name!r} is not a parameter this treatment records."
    if errors:
        raise ParameterError(errors)
    return cleaned
