"""Database triggers: nothing changes or removes a signed clinical record silently.

- A signed treatment session or skin assessment is updated only together with an amendment:
  the UPDATE must move ``amendment_count`` up by exactly one, and an ``Amendment`` row for
  that record numbered with the new count (``sequence``) must already exist. On PostgreSQL
  that amendment must have been written in the same transaction (the amendment insert
  trigger stamps ``written_in_transaction`` with ``txid_current()``, whatever the writer
  sent); SQLite cannot tell transactions apart, so there the guard ties each change to one
  new, numbered amendment row. Signing is never undone and never re-attributed.
- Signed sessions, signed assessments, aftercare notes and amendments are never deleted.
- An aftercare note's text never changes once written (its sending status may).
- Amendment rows are never updated.

What the triggers do not stop: someone with the database owner's rights can drop them, and
PostgreSQL's TRUNCATE does not fire row triggers (Django's test flush relies on that).

The triggers are not part of the model state. Migrations install them, and so does every
``migrate`` (post_migrate): SQLite rebuilds a table, dropping its triggers, whenever a later
migration alters it. Installing is idempotent and replaces older versions of a trigger; a
guard whose columns do not exist yet (an early migration on a new database) is skipped
until they do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SESSION_TABLE = "treatments_treatmentsession"
ASSESSMENT_TABLE = "treatments_skinassessment"
AFTERCARE_TABLE = "treatments_aftercarenote"
AMENDMENT_TABLE = "treatments_amendment"

SESSION_MESSAGE = "A signed treatment session can only change through an amendment."
ASSESSMENT_MESSAGE = "A signed skin assessment can only change through an amendment."
AFTERCARE_MESSAGE = "An aftercare note's text cannot change once it is written."
AMENDMENT_MESSAGE = "Amendments are a permanent record and cannot be changed."
SIGNED_DELETE_MESSAGE = "A signed clinical record cannot be deleted."
AFTERCARE_DELETE_MESSAGE = "An aftercare note is part of the clinical record and stays."
AMENDMENT_DELETE_MESSAGE = "Amendments are a permanent record and cannot be deleted."

# Set on PostgreSQL by the amendment insert trigger; the update guards compare it.
SAME_TRANSACTION = "AND a.written_in_transaction = txid_current()"


@dataclass(frozen=True)
class Guard:
    table: str
    event: str  # "UPDATE" or "DELETE"
    condition: str  # refuse when true; "{same_transaction}" marks the PostgreSQL-only clause
    message: str
    needs: tuple[tuple[str, str], ...] = ()  # (table, column) that must exist


def _signed_update(amendment_column: str) -> str:
    return (
        "OLD.signed_at IS NOT NULL AND ("  # noqa: S608 - fixed names, no input
        "NEW.id IS DISTINCT FROM OLD.id"
        " OR NEW.signed_at IS DISTINCT FROM OLD.signed_at"
        " OR NEW.signed_by_id IS DISTINCT FROM OLD.signed_by_id"
        " OR NEW.amendment_count IS DISTINCT FROM OLD.amendment_count + 1"
        f" OR NOT EXISTS (SELECT 1 FROM {AMENDMENT_TABLE} a"
        f" WHERE a.{amendment_column} = OLD.id AND a.sequence = NEW.amendment_count"
        " {same_transaction}))"
    )


_SEQUENCED = ((AMENDMENT_TABLE, "sequence"), (AMENDMENT_TABLE, "written_in_transaction"))

GUARDS: dict[str, Guard] = {
    "treatments_session_signed_guard": Guard(
        SESSION_TABLE, "UPDATE", _signed_update("session_id"), SESSION_MESSAGE, _SEQUENCED
    ),
    "treatments_assessment_signed_guard": Guard(
        ASSESSMENT_TABLE,
        "UPDATE",
        _signed_update("assessment_id"),
        ASSESSMENT_MESSAGE,
        (*_SEQUENCED, (ASSESSMENT_TABLE, "amendment_count")),
    ),
    "treatments_aftercare_text_guard": Guard(
        AFTERCARE_TABLE,
        "UPDATE",
        "NEW.template_text IS DISTINCT FROM OLD.template_text"
        " OR NEW.practitioner_additions IS DISTINCT FROM OLD.practitioner_additions"
        " OR NEW.session_id IS DISTINCT FROM OLD.session_id",
        AFTERCARE_MESSAGE,
    ),
    "treatments_amendment_guard": Guard(AMENDMENT_TABLE, "UPDATE", "TRUE", AMENDMENT_MESSAGE),
    "treatments_session_delete_guard": Guard(
        SESSION_TABLE, "DELETE", "OLD.signed_at IS NOT NULL", SIGNED_DELETE_MESSAGE
    ),
    "treatments_assessment_delete_guard": Guard(
        ASSESSMENT_TABLE, "DELETE", "OLD.signed_at IS NOT NULL", SIGNED_DELETE_MESSAGE
    ),
    "treatments_aftercare_delete_guard": Guard(
        AFTERCARE_TABLE, "DELETE", "TRUE", AFTERCARE_DELETE_MESSAGE
    ),
    "treatments_amendment_delete_guard": Guard(
        AMENDMENT_TABLE, "DELETE", "TRUE", AMENDMENT_DELETE_MESSAGE
    ),
}

# Names of the DELETE guards: SQLite's test flush empties tables with DELETE (see tests).
DELETE_GUARDS = tuple(name for name, guard in GUARDS.items() if guard.event == "DELETE")

STAMP_FUNCTION = "treatments_amendment_stamp_transaction"


def _quoted(message: str) -> str:
    return "'" + message.replace("'", "''") + "'"


def sqlite_statements(name: str, guard: Guard) -> list[str]:
    # SQLite (3.39+) understands IS DISTINCT FROM; "IS NOT" is the older spelling of it.
    condition = (
        guard.condition.replace("IS DISTINCT FROM", "IS NOT")
        .replace("TRUE", "1")
        .replace("{same_transaction}", "")
    )
    return [
        f"DROP TRIGGER IF EXISTS {name}",
        f"CREATE TRIGGER {name} BEFORE {guard.event} ON {guard.table} FOR EACH ROW "
        f"WHEN {condition} BEGIN SELECT RAISE(ABORT, {_quoted(guard.message)}); END",
    ]


def _postgres(name: str, guard: Guard) -> list[str]:
    condition = guard.condition.replace("{same_transaction}", SAME_TRANSACTION)
    passes = "OLD" if guard.event == "DELETE" else "NEW"
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $guard$ "
        f"BEGIN IF {condition} THEN RAISE EXCEPTION {_quoted(guard.message)} "
        f"USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN {passes}; END $guard$",
        f"DROP TRIGGER IF EXISTS {name} ON {guard.table}",
        f"CREATE TRIGGER {name} BEFORE {guard.event} ON {guard.table} FOR EACH ROW "
        f"EXECUTE FUNCTION {name}()",
    ]


def _postgres_stamp() -> list[str]:
    # Whatever the writer sends, the row records the transaction that really wrote it.
    return [
        f"CREATE OR REPLACE FUNCTION {STAMP_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS "
        "$stamp$ BEGIN NEW.written_in_transaction := txid_current(); RETURN NEW; END $stamp$",
        f"DROP TRIGGER IF EXISTS {STAMP_FUNCTION} ON {AMENDMENT_TABLE}",
        f"CREATE TRIGGER {STAMP_FUNCTION} BEFORE INSERT ON {AMENDMENT_TABLE} FOR EACH ROW "
        f"EXECUTE FUNCTION {STAMP_FUNCTION}()",
    ]


def _columns(connection: Any, cursor: Any, table: str) -> set[str]:
    return {column.name for column in connection.introspection.get_table_description(cursor, table)}


def install_guards(connection: Any) -> None:
    """Create (or replace) the triggers on this connection's database, if its tables exist."""
    builders = {"sqlite": sqlite_statements, "postgresql": _postgres}
    build = builders.get(connection.vendor)
    if build is None:
        return
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        columns = {table: _columns(connection, cursor, table) for table in GUARDS_TABLES & existing}
        for name, guard in GUARDS.items():
            if guard.table not in existing or any(
                column not in columns.get(table, set()) for table, column in guard.needs
            ):
                continue
            for statement in build(name, guard):
                cursor.execute(statement)
        if connection.vendor == "postgresql" and "written_in_transaction" in columns.get(
            AMENDMENT_TABLE, set()
        ):
            for statement in _postgres_stamp():
                cursor.execute(statement)


GUARDS_TABLES = {SESSION_TABLE, ASSESSMENT_TABLE, AFTERCARE_TABLE, AMENDMENT_TABLE}


def remove_guards(connection: Any) -> None:
    with connection.cursor() as cursor:
        for name, guard in GUARDS.items():
            if connection.vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            elif connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {guard.table}")
                cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {STAMP_FUNCTION} ON {AMENDMENT_TABLE}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {STAMP_FUNCTION}()")
