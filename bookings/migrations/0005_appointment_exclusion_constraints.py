"""PostgreSQL exclusion constraints: no two active appointments overlap.

For the same practitioner or room the occupied time is ``[starts_at, blocked_until)`` (the
appointment plus its cleanup buffer); for the same patient it is ``[starts_at, ends_at)``.
Cancelled, completed and no-show appointments are left out (partial constraints).

SQLite has no exclusion constraints: there the booking services serialise writers with
``BEGIN IMMEDIATE`` transactions and check before they insert. This migration does nothing
on SQLite and changes no model state, so ``makemigrations --check`` stays clean.
"""

from __future__ import annotations

from django.db import migrations

ACTIVE = "('booked', 'confirmed', 'checked_in')"

CONSTRAINTS = {
    "appointment_no_practitioner_overlap": (
        "practitioner_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&"
    ),
    "appointment_no_room_overlap": (
        "room_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&"
    ),
    "appointment_no_patient_overlap": (
        "patient_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&"
    ),
}


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for name, expression in CONSTRAINTS.items():
        schema_editor.execute(
            f"ALTER TABLE bookings_appointment ADD CONSTRAINT {name} "
            f"EXCLUDE USING gist ({expression}) WHERE (status IN {ACTIVE})"
        )


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE bookings_appointment DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("bookings", "0004_appointment_blocked_until_required")]

    operations = [migrations.RunPython(add_constraints, drop_constraints)]
