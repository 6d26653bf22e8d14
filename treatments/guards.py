"""Database triggers: nothing changes a signed clinical record silently.

- A signed treatment session or skin assessment may only be updated together with an
  amendment: the amendment service bumps ``amendment_count`` in the same UPDATE; any other
  UPDATE of a signed row (the admin, a shell, a bug) is refused by the database with an
  ``IntegrityError``.
- An aftercare note's text never changes once written (its sending status may).
- Amendment rows are never updated.

The triggers work on SQLite and PostgreSQL alike and are not part of the model state.
Migration 0004 installs them, and so does every ``migrate`` (post_migrate): SQLite rebuilds a
table, dropping its triggers, whenever a later migration alters it. Installing is idempotent.
"""

from __future__ import annotations

from typing import Any

SESSION_TABLE = "treatments_treatmentsession"
ASSESSMENT_TABLE = "treatments_skinassessment"
AFTERCARE_TABLE = "treatments_aftercarenote"
AMENDMENT_TABLE = "treatments_amendment"

SESSION_MESSAGE = "A signed treatment session can only change through an amendment."
ASSESSMENT_MESSAGE = "A signed skin assessment can only change through an amendment."
AFTERCARE_MESSAGE = "An aftercare note's text cannot change once it is written."
AMENDMENT_MESSAGE = "Amendments are a permanent record and cannot be changed."

# name -> (table, condition in SQL shared by both databases, message)
GUARDS: dict[str, tuple[str, str, str]] = {
    "treatments_session_signed_guard": (
        SESSION_TABLE,
        "OLD.signed_at IS NOT NULL AND NEW.amendment_count <= OLD.amendment_count",
        SESSION_MESSAGE,
    ),
    "treatments_assessment_signed_guard": (
        ASSESSMENT_TABLE,
        "OLD.signed_at IS NOT NULL AND NEW.amendment_count <= OLD.amendment_count",
        ASSESSMENT_MESSAGE,
    ),
    "treatments_aftercare_text_guard": (
        AFTERCARE_TABLE,
        "NEW.template_text IS DISTINCT FROM OLD.template_text"
        " OR NEW.practitioner_additions IS DISTINCT FROM OLD.practitioner_additions"
        " OR NEW.session_id IS DISTINCT FROM OLD.session_id",
        AFTERCARE_MESSAGE,
    ),
    "treatments_amendment_guard": (AMENDMENT_TABLE, "TRUE", AMENDMENT_MESSAGE),
}


def _quoted(message: str) -> str:
    return "'" + message.replace("'", "''") + "'"


def _sqlite(name: str, table: str, condition: str, message: str) -> list[str]:
    # SQLite (3.39+) understands IS DISTINCT FROM; "IS NOT" is the older spelling of it.
    condition = condition.replace("IS DISTINCT FROM", "IS NOT").replace("TRUE", "1")
    return [
        f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE UPDATE ON {table} FOR EACH ROW "
        f"WHEN {condition} BEGIN SELECT RAISE(ABORT, {_quoted(message)}); END"
    ]


def _postgres(name: str, table: str, condition: str, message: str) -> list[str]:
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $guard$ "
        f"BEGIN IF {condition} THEN RAISE EXCEPTION {_quoted(message)} "
        "USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN NEW; END $guard$",
        f"DROP TRIGGER IF EXISTS {name} ON {table}",
        f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]


def install_guards(connection: Any) -> None:
    """Create (or recreate) the triggers on this connection's database, if its tables exist."""
    builders = {"sqlite": _sqlite, "postgresql": _postgres}
    build = builders.get(connection.vendor)
    if build is None:
        return
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for name, (table, condition, message) in GUARDS.items():
            if table not in existing:
                continue
            for statement in build(name, table, condition, message):
                cursor.execute(statement)


def remove_guards(connection: Any) -> None:
    with connection.cursor() as cursor:
        for name, (table, _condition, _message) in GUARDS.items():
            if connection.vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            elif connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")
