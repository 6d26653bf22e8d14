"""Indexes and triggers that migrations create with raw SQL survive every later migration.

They live outside Django's model state, so a later migration that makes SQLite rebuild a
table (any column change) silently drops them: the patient list's name index went that way
once. The test database is built by running every migration, so this checks the end state.
"""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

RAW_INDEXES = {
    "clinic_patient": {"patient_name_sort_idx"},
    "bookings_appointmentnotice": {"appointment_notice_unsettled_idx"},
}
POSTGRES_ONLY_INDEXES = {"clinic_patient": {"patient_search_trgm_idx"}}


def _triggers(table: str) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [table],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
            )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize("table", sorted(RAW_INDEXES))
def test_raw_indexes_are_still_there_after_every_migration(table: str):
    expected = set(RAW_INDEXES[table])
    if connection.vendor == "postgresql":
        expected |= POSTGRES_ONLY_INDEXES.get(table, set())
    with connection.cursor() as cursor:
        present = set(connection.introspection.get_constraints(cursor, table))

    assert expected <= present


def test_the_audit_trail_guard_is_still_there_after_every_migration():
    assert "clinic_audit_append_only" in _triggers("clinic_auditentry")
