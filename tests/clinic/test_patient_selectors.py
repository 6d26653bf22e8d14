"""Finding patients: search as you type, archived filter, possible duplicates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection

from clinic.selectors import (
    PatientStatus,
    parse_patient_query,
    patient_list,
    possible_duplicates,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def found(query: str, status: str = PatientStatus.ACTIVE) -> list[str]:
    return [
        patient.full_name
        for patient in patient_list(query=parse_patient_query(query), status=status)
    ]


@pytest.fixture
def clinic_patients(db: Any) -> dict[str, Any]:
    return {
        "zoe": PatientFactory(
            given_name="Zoë",
            family_name="Adeyemi",
            email="zoe@patients.example",
            phone="+447700900123",
        ),
        "siobhan": PatientFactory(
            given_name="Siobhán",
            family_name="O'Connor",
            email="siobhan@patients.example",
            phone="+447700900456",
        ),
        "ng": PatientFactory(
            given_name="Mei", family_name="Ng", email="mei@patients.example", phone=""
        ),
        "tsang": PatientFactory(
            given_name="Ada", family_name="Tsang", email="ada@patients.example", phone=""
        ),
        "archived": PatientFactory(
            given_name="Zoe",
            family_name="Archer",
            email="archer@patients.example",
            is_active=False,
        ),
    }


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("zoe", ["Zoë Adeyemi"]),
        ("ZOË", ["Zoë Adeyemi"]),
        ("yemi", ["Zoë Adeyemi"]),
        ("adeyemi zoe", ["Zoë Adeyemi"]),
        ("siobhan o'connor", ["Siobhán O'Connor"]),
        ("oconnor", ["Siobhán O'Connor"]),
        ("O\u2019Connor", ["Siobhán O'Connor"]),
        ("siobhan@pat", ["Siobhán O'Connor"]),
        ("PATIENTS.EXAMPLE", ["Zoë Adeyemi", "Mei Ng", "Siobhán O'Connor", "Ada Tsang"]),
        ("07700 900123", ["Zoë Adeyemi"]),
        ("+44 7700 900123", ["Zoë Adeyemi"]),
        ("0044 7700 900 123", ["Zoë Adeyemi"]),
        ("(07700) 900-456", ["Siobhán O'Connor"]),
        ("900", ["Zoë Adeyemi", "Siobhán O'Connor"]),
        ("ng", ["Mei Ng"]),
        ("mei ng", ["Mei Ng"]),
        ("nobody here", []),
    ],
)
def test_search_is_partial_and_ignores_case_accents_and_phone_formatting(
    clinic_patients: dict[str, Any], query: str, names: list[str]
):
    assert found(query) == names


def test_a_two_letter_word_matches_the_start_of_a_word_only(clinic_patients: dict[str, Any]):
    assert found("ng") == ["Mei Ng"]
    assert "Ada Tsang" in found("ang")


@pytest.mark.parametrize("query", ["z", "a b", "07"])
def test_too_short_a_query_finds_nobody_and_says_so(clinic_patients: dict[str, Any], query: str):
    assert parse_patient_query(query).too_short
    assert found(query) == []


def test_an_empty_search_lists_active_patients_in_name_order(clinic_patients: dict[str, Any]):
    assert found("") == ["Zoë Adeyemi", "Mei Ng", "Siobhán O'Connor", "Ada Tsang"]


def test_archived_patients_are_hidden_unless_asked_for(clinic_patients: dict[str, Any]):
    assert found("zoe") == ["Zoë Adeyemi"]
    assert found("zoe", PatientStatus.ARCHIVED) == ["Zoe Archer"]
    assert found("zoe", PatientStatus.ALL) == ["Zoë Adeyemi", "Zoe Archer"]


def test_like_wildcards_in_a_query_are_taken_literally(clinic_patients: dict[str, Any]):
    assert found("%") == []
    assert found("z_e") == []


def test_the_search_is_one_query_however_many_patients_match(
    clinic_patients: dict[str, Any], django_assert_num_queries: Any
):
    PatientFactory.create_batch(30, family_name="Example")

    with django_assert_num_queries(1):
        rows = list(patient_list(query=parse_patient_query("example"), status="active"))
        [(row.full_name, row.suitability_summary, row.assessed_on) for row in rows]

    assert len(rows) == 34


def test_search_uses_the_trigram_index_on_postgresql_and_nothing_on_sqlite():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'patient_search_trgm_idx'"
            )
            (definition,) = cursor.fetchone()
            assert "gin" in definition
            assert "gin_trgm_ops" in definition
            # A tiny test table is scanned whole anyway (in table or name order); forbid both
            # to prove the trigram index can answer the query.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
            sql, params = patient_list(
                query=parse_patient_query("adey"), status="all"
            ).query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "patient_search_trgm_idx" in plan
        else:
            names = connection.introspection.get_constraints(cursor, "clinic_patient")
            assert "patient_search_trgm_idx" not in names


# --- Possible duplicates ----------------------------------------------------------------------


def duplicates_of(**values: Any) -> list[tuple[str, tuple[str, ...]]]:
    arguments = {
        "given_name": "Zoe",
        "family_name": "ADEYEMI",
        "date_of_birth": dt.date(1990, 5, 17),
        "email": "",
    }
    arguments.update(values)
    return [
        (duplicate.patient.full_name, duplicate.reasons)
        for duplicate in possible_duplicates(**arguments)
    ]


@pytest.fixture
def zoe(db: Any) -> Any:
    return PatientFactory(
        given_name="Zoë",
        family_name="Adeyemi",
        date_of_birth=dt.date(1990, 5, 17),
        email="zoe@patients.example",
    )


def test_same_name_and_birthday_is_a_possible_duplicate_whatever_the_case_or_accents(zoe: Any):
    assert duplicates_of() == [("Zoë Adeyemi", ("same name and date of birth",))]


def test_same_email_is_a_possible_duplicate_whatever_its_case(zoe: Any):
    assert duplicates_of(
        given_name="Z",
        family_name="A",
        date_of_birth=dt.date(2000, 1, 1),
        email="ZOE@patients.example",
    ) == [("Zoë Adeyemi", ("same email",))]


def test_both_reasons_are_named_when_both_match(zoe: Any):
    assert duplicates_of(email="zoe@patients.example") == [
        ("Zoë Adeyemi", ("same email", "same name and date of birth"))
    ]


def test_same_name_on_another_birthday_is_not_a_duplicate(zoe: Any):
    assert duplicates_of(date_of_birth=dt.date(1990, 5, 18)) == []


def test_same_birthday_with_a_longer_name_is_not_a_duplicate(zoe: Any):
    assert duplicates_of(family_name="Adeyemi-Smith") == []


def test_archived_patients_count_as_duplicates(zoe: Any):
    zoe.is_active = False
    zoe.save()

    assert duplicates_of() == [("Zoë Adeyemi", ("same name and date of birth",))]


def test_a_patient_is_not_their_own_duplicate(zoe: Any):
    assert duplicates_of(exclude_pk=zoe.pk, email="zoe@patients.example") == []
