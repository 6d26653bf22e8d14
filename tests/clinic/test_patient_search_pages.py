"""A page of the patient list: a typed search fetches a page and one more row in one query
(no count), from either of two plans that must agree on the order."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import Patient
from clinic.selectors import (
    SEARCH_WALK_ROWS,
    PatientStatus,
    parse_page_number,
    parse_patient_query,
    patient_list,
    patient_page,
)

pytestmark = pytest.mark.django_db


def register(
    names: list[tuple[str, str]], *, domain: str = "patients.example", is_active: bool = True
) -> list[Patient]:
    """Patients in one INSERT (thousands in a fraction of a second), search text included."""
    patients = []
    for given, family in names:
        patient = Patient(
            given_name=given,
            family_name=family,
            date_of_birth=dt.date(1980, 1, 1),
            email=f"{given}.{family}@{domain}".lower().replace(" ", ""),
            is_active=is_active,
        )
        patient.refresh_search_text()
        patients.append(patient)
    return Patient.objects.bulk_create(patients)


def page_of(text: str, number: Any = 1, status: str = PatientStatus.ACTIVE) -> Any:
    return patient_page(query=parse_patient_query(text), status=status, page_number=number)


def names(page: Any) -> list[str]:
    return [f"{patient.given_name} {patient.family_name}" for patient in page.patients]


def in_list_order(patients: list[Patient]) -> list[str]:
    """The order the list promises: family name, given name, id, ignoring case (ASCII names
    here: SQLite and a C-locale PostgreSQL lower-case ASCII letters only)."""
    ordered = sorted(
        patients,
        key=lambda patient: (patient.family_name.lower(), patient.given_name.lower(), patient.pk),
    )
    return [f"{patient.given_name} {patient.family_name}" for patient in ordered]


# --- Whether more match, without counting them --------------------------------------------------


def test_twenty_five_matches_fill_one_page_with_nothing_more_to_come():
    register([(f"Given{number:02d}", "Example") for number in range(25)])

    page = page_of("example")

    assert len(page.patients) == 25
    assert not page.has_next
    assert page.total == 25


def test_a_twenty_sixth_match_is_the_only_sign_that_a_next_page_exists():
    register([(f"Given{number:02d}", "Example") for number in range(26)])

    page = page_of("example")

    assert len(page.patients) == 25
    assert page.has_next
    assert page.total is None
    assert (page.start_index, page.end_index) == (1, 25)


def test_page_two_shows_the_rest_in_order_and_knows_the_total():
    patients = register([(f"Given{number:02d}", "Example") for number in range(30)])

    first, second = page_of("example", 1), page_of("example", 2)

    assert names(first) + names(second) == in_list_order(patients)
    assert (second.start_index, second.end_index, second.total) == (26, 30, 30)
    assert second.has_previous
    assert not second.has_next


def test_a_typed_search_is_one_query_however_many_match(django_assert_num_queries: Any):
    register([(f"Given{number:02d}", "Example") for number in range(40)])

    for text, number in [("example", 1), ("example", 2), ("given03", 1), ("nobody", 1)]:
        with django_assert_num_queries(1):
            page = page_of(text, number)
            [(row.full_name, row.suitability_summary, row.assessed_on) for row in page.patients]


def test_a_search_too_short_to_run_costs_no_query(django_assert_num_queries: Any):
    with django_assert_num_queries(0):
        page = page_of("z")

    assert page.patients == []
    assert not page.has_next


def test_a_page_past_the_last_match_is_empty_and_says_so():
    register([(f"Given{number:02d}", "Example") for number in range(30)])

    page = page_of("example", 7)

    assert page.patients == []
    assert page.past_the_end
    assert page.total is None


@pytest.mark.parametrize(
    ("raw", "number"), [(None, 1), ("", 1), ("abc", 1), ("0", 1), ("-3", 1), ("2", 2)]
)
def test_a_page_number_that_is_not_a_positive_number_means_the_first_page(raw: Any, number: int):
    assert parse_page_number(raw) == number


def test_an_absurd_page_number_is_past_the_end_not_an_error():
    register([("Ann", "Example")])

    page = page_of("example", "9" * 30)

    assert page.past_the_end


def test_browsing_without_a_search_counts_the_list_and_pages_through_it(
    django_assert_num_queries: Any,
):
    register([(f"Given{number:02d}", "Example") for number in range(30)])
    register([("Archie", "Archived")], is_active=False)

    with django_assert_num_queries(2):  # the COUNT and the page
        page = page_of("", 2)
        names(page)

    assert (page.start_index, page.end_index, page.total) == (26, 30, 30)


# --- Two plans, one order -----------------------------------------------------------------------
#
# A common search (every patient's email is at patients.example) finds its page within the first
# SEARCH_WALK_ROWS patients in name order; a rare one ("marlowe": a few early in the alphabet,
# the rest after as many Averys as the walk reads) does not, and sorts its matches instead. Names
# differ in case only ("de Marlowe", "MARLOWE", "marlowe"): the order ignores case in both plans.

EARLY_MARLOWES = [
    ("Marlowe", "Aaron"),
    ("marlowe", "abel"),
    ("Marlowe", "ACTON"),
    ("Marlowe", "Adair"),
    ("MARLOWE", "adler"),
    ("Marlowe", "Agnew"),
    ("Marlowe", "ahern"),
    ("Marlowe", "Aiken"),
    ("Marlowe", "ALBA"),
    ("marlowe", "Alden"),
]
LATE_MARLOWES = [
    ("Zed", "Marlowe"),
    ("ann", "Marlowe"),
    ("Ann", "marlowe"),
    ("ANN", "MARLOWE"),
    ("Bea", "de Marlowe"),
    ("bea", "De Marlowe"),
    ("Cy", "DE MARLOWE"),
    ("Marlowe", "Young"),
    ("Marlowe", "young"),
    ("Marlowe", "Zhang"),
    ("Marlowe", "Davies"),
    ("Marlowe", "davis"),
    ("Marlowe", "DAWSON"),
    ("Marlowe", "Eng"),
    ("Marlowe", "evans"),
    ("Marlowe", "Marsh"),
    ("Marlowe", "marsh"),
    ("Marlowe", "Maas"),
    ("Marlowe", "mack"),
    ("Marlowe", "MacLeod"),
    ("Marlowe", "Mackay"),
    ("Marlowe", "van Dijk"),
    ("Marlowe", "Van Dam"),
    ("Marlowe", "Vance"),
    ("Dot", "Marlowe"),
]


@pytest.fixture
def crowded_clinic(db: Any) -> list[Patient]:
    fillers = [(f"Patient {number:04d}", "Avery") for number in range(SEARCH_WALK_ROWS)]
    patients = register(EARLY_MARLOWES + fillers + LATE_MARLOWES)
    register([("Marlowe", "Aardal")], is_active=False)  # first in name order, archived
    return patients


def marlowes(patients: list[Patient]) -> list[Patient]:
    return [patient for patient in patients if "marlowe" in patient.search_text]


def test_a_rare_search_sorts_its_matches_into_the_list_order(crowded_clinic: list[Patient]):
    expected = in_list_order(marlowes(crowded_clinic))
    assert len(expected) == 35

    first, second = page_of("marlowe", 1), page_of("marlowe", 2)

    assert first.has_next
    assert names(first) == expected[:25]
    assert names(second) == expected[25:]
    assert not second.has_next


def test_a_common_search_walks_the_names_in_the_same_order(crowded_clinic: list[Patient]):
    expected = in_list_order(crowded_clinic)

    last_number = (len(expected) + 24) // 25
    first, second = page_of("patients.example", 1), page_of("patients.example", 2)
    last = page_of("patients.example", last_number)

    assert names(first) == expected[:25]
    assert names(second) == expected[25:50]
    assert names(last) == expected[(last_number - 1) * 25 :]
    assert first.has_next
    assert second.has_next
    assert not last.has_next
    assert last.total == len(crowded_clinic)


def test_archived_patients_stay_out_of_both_plans_unless_asked_for(crowded_clinic: list[Patient]):
    assert "Marlowe Aardal" not in names(page_of("marlowe"))
    assert "Marlowe Aardal" not in names(page_of("patients.example"))
    assert names(page_of("marlowe", status=PatientStatus.ALL))[0] == "Marlowe Aardal"
    assert names(page_of("patients.example", status=PatientStatus.ALL))[0] == "Marlowe Aardal"
    assert names(page_of("marlowe", status=PatientStatus.ARCHIVED)) == ["Marlowe Aardal"]


def test_the_whole_list_is_in_the_same_order_as_a_search(crowded_clinic: list[Patient]):
    assert names(page_of("", 1)) == names(page_of("patients.example", 1))


def statement_of(text: str) -> str:
    with CaptureQueriesContext(connection) as captured:
        page_of(text)
    (statement,) = captured.captured_queries
    return statement["sql"]


def plan_of(text: str, explain: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"{explain} {statement_of(text)}")
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def read_every_match(plan: str) -> bool:
    scans = [line for line in plan.splitlines() if "CTE Scan on matching" in line]
    assert scans, plan
    return not all("never executed" in line for line in scans)


def test_only_a_rare_search_reads_all_its_matches_and_the_walk_can_use_the_name_index(
    crowded_clinic: list[Patient],
):
    if connection.vendor == "postgresql":
        ran = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)"
        assert not read_every_match(plan_of("patients.example", ran))
        assert read_every_match(plan_of("marlowe", ran))
        # A few thousand rows are as cheap to scan whole as to walk; forbid the scan to show
        # the walk can be answered from the index (on the benchmark clinic it always is).
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        assert "patient_name_sort_idx" in plan_of("patients.example", "EXPLAIN")
    else:
        assert "patient_name_sort_idx" in plan_of("patients.example", "EXPLAIN QUERY PLAN")


def test_the_api_search_sorts_its_matches_rather_than_walk_the_name_index(
    crowded_clinic: list[Patient],
):
    """Ordered by the name index's own keys, PostgreSQL could walk it for "marlowe" (half the
    table on a real clinic); the API's list is sorted, from the trigram index."""
    matches = patient_list(query=parse_patient_query("marlowe"))

    assert [f"{p.given_name} {p.family_name}" for p in matches.all()] == in_list_order(
        marlowes(crowded_clinic)
    )
    if connection.vendor == "postgresql":
        sql, params = matches.all()[:20].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "patient_name_sort_idx" not in plan
        assert "patient_search_trgm_idx" in plan
