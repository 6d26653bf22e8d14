"""The session parameter rules: a schema managers can edit, values practitioners log.

Pure functions: no database."""

from __future__ import annotations

import pytest

from treatments.catalogue import DEFAULT_TREATMENT_TYPES
from treatments.parameters import (
    ParameterError,
    SchemaError,
    clean_parameters,
    parse_schema,
    schema_as_json,
)

CRYSTAL, DIAMOND, MICRONEEDLING = (entry["parameter_schema"] for entry in DEFAULT_TREATMENT_TYPES)


def test_the_default_schemas_are_valid_and_round_trip_unchanged() -> None:
    for schema in (CRYSTAL, DIAMOND, MICRONEEDLING):
        assert schema_as_json(parse_schema(schema)) == schema


@pytest.mark.parametrize(
    ("values", "cleaned"),
    [
        (
            {"intensity": "4", "vacuum": 5, "crystal_flow": "3", "passes": "2"},
            {"intensity": 4, "vacuum": 5, "crystal_flow": 3, "passes": 2},
        ),
        (
            {"intensity": 1, "vacuum": 10, "crystal_flow": 1, "passes": 3},
            {"intensity": 1, "vacuum": 10, "crystal_flow": 1, "passes": 3},
        ),
    ],
    ids=["strings-from-a-form", "both-ends-of-every-range"],
)
def test_crystal_settings_inside_their_ranges_are_accepted(
    values: dict[str, object], cleaned: dict[str, object]
) -> None:
    assert clean_parameters(parse_schema(CRYSTAL), values) == cleaned


@pytest.mark.parametrize(
    ("passes", "message"),
    [
        (0, "Passes must be between 1 and 3."),
        (4, "Passes must be between 1 and 3."),
        ("2.5", "Passes must be a whole number. Passes must be between 1 and 3."),
        ("many", "Passes must be a number. Passes must be between 1 and 3."),
        ("", "Enter the passes."),
    ],
    ids=["zero", "four", "half-a-pass", "not-a-number", "missing"],
)
def test_passes_must_be_between_1_and_3(passes: object, message: str) -> None:
    values = {"intensity": 4, "vacuum": 5, "crystal_flow": 3, "passes": passes}

    with pytest.raises(ParameterError) as refused:
        clean_parameters(parse_schema(CRYSTAL), values)

    assert refused.value.errors == {"passes": message}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"cartridge": "24"}, "cartridge", "Cartridge must be one of nano, 12, 36."),
        ({"depth_mm": "2.25"}, "depth_mm", "Needle depth (mm) must be between 0 and 2."),
        ({"depth_mm": "1.1"}, "depth_mm", "Needle depth (mm) must be in steps of 0.25"),
        ({"speed": 4}, "speed", "Speed must be between 1 and 3."),
    ],
    ids=["unknown-cartridge", "deeper-than-2mm", "off-the-quarter-millimetre", "speed-4"],
)
def test_microneedling_takes_12_or_36_needles_up_to_2mm_at_speeds_1_to_3(
    changes: dict[str, object], field: str, message: str
) -> None:
    values = {"cartridge": "36", "depth_mm": "1.5", "speed": 2, "passes": 1, **changes}

    with pytest.raises(ParameterError) as refused:
        clean_parameters(parse_schema(MICRONEEDLING), values)

    assert list(refused.value.errors) == [field]
    assert refused.value.errors[field].startswith(message)


def test_microneedling_depth_is_kept_as_a_number() -> None:
    values = {"cartridge": "12", "depth_mm": "1.25", "speed": "3", "passes": 1}

    assert clean_parameters(parse_schema(MICRONEEDLING), values) == {
        "cartridge": "12",
        "depth_mm": 1.25,
        "speed": 3,
        "passes": 1,
    }


def test_a_value_for_a_parameter_the_treatment_does_not_record_is_refused() -> None:
    values = {"intensity": 4, "vacuum": 5, "crystal_flow": 3, "passes": 2, "depth_mm": 1}

    with pytest.raises(ParameterError) as refused:
        clean_parameters(parse_schema(CRYSTAL), values)

    assert refused.value.errors == {
        "depth_mm": "'depth_mm' is not a parameter this treatment records."
    }


def test_an_optional_parameter_left_empty_is_left_out() -> None:
    schema = [{"name": "handpiece", "label": "Handpiece", "type": "text", "required": False}]

    assert clean_parameters(parse_schema(schema), {"handpiece": " "}) == {}


def _schema_errors(schema: object) -> dict[int | None, list[str]]:
    with pytest.raises(SchemaError) as refused:
        parse_schema(schema)
    return refused.value.errors


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"name": "passes", "label": "Passes", "type": "int", "min": 3, "max": 1},
            "the lowest value (3) must not be above the highest (1)",
        ),
        (
            {"name": "passes", "label": "Passes", "type": "int", "min": 1},
            "enter both the lowest and the highest valid value",
        ),
        (
            {"name": "passes", "label": "Passes", "type": "int", "min": 1, "max": 2.5},
            "a whole-number parameter needs whole-number limits",
        ),
        (
            {"name": "depth", "label": "Depth", "type": "decimal", "min": 0, "max": 2, "step": 0},
            "the step must be above 0",
        ),
        (
            {"name": "tip", "label": "Tip", "type": "choice", "choices": ["fine"]},
            "list at least two options",
        ),
        (
            {"name": "tip", "label": "Tip", "type": "choice", "choices": ["fine", "Fine"]},
            "each option may appear only once",
        ),
        (
            {"name": "Crystal Flow", "label": "Crystal flow", "type": "int", "min": 1, "max": 3},
            "the name must start with a lower-case letter",
        ),
        ({"name": "flow", "label": "", "type": "int", "min": 1, "max": 3}, "enter a label"),
        ({"name": "flow", "label": "Flow", "type": "colour"}, "choose a type"),
    ],
    ids=[
        "min-above-max",
        "max-missing",
        "fractional-limit-for-whole-numbers",
        "zero-step",
        "one-option",
        "duplicate-option",
        "name-with-capitals-and-space",
        "no-label",
        "unknown-type",
    ],
)
def test_a_schema_row_with_impossible_limits_is_refused_with_a_reason(
    entry: dict[str, object], message: str
) -> None:
    errors = _schema_errors([entry])

    assert list(errors) == [0]
    assert message in " ".join(errors[0])


def test_parameter_names_must_be_unique() -> None:
    errors = _schema_errors(
        [
            {"name": "passes", "label": "Passes", "type": "int", "min": 1, "max": 3},
            {"name": "passes", "label": "Extra passes", "type": "int", "min": 1, "max": 3},
        ]
    )

    assert errors == {
        1: [
            "Extra passes: the name 'passes' is already used by parameter 1; each name must be "
            "unique."
        ]
    }


def test_every_broken_row_is_reported_at_once() -> None:
    errors = _schema_errors(
        [
            {"name": "a", "label": "A", "type": "int", "min": 2, "max": 1},
            {"name": "b", "label": "B", "type": "int", "min": 1, "max": 2},
            {"name": "c", "label": "C", "type": "choice", "choices": []},
        ]
    )

    assert sorted(errors) == [0, 2]
