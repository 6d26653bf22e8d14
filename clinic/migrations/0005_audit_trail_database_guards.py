"""Database triggers: the audit trail is append-only below the application too.

PostgreSQL refuses DELETE and every UPDATE of an audit row except the one GDPR erasure
performs (blanking the before/after payload and stamping ``redacted_at``, nothing else; the
chained hash covers a digest of the payload, so the chain still verifies). SQLite gets the
UPDATE guard only: Django's test flush empties SQLite tables with DELETE, while on
PostgreSQL it uses TRUNCATE, which row triggers do not see.

Triggers are not model state, so ``makemigrations`` ignores them. Both directions are safe
to run again.
"""

from django.db import migrations

MESSAGE = "The audit trail is append-only."

UNCHANGED = [
    "id",
    "seq",
    "at",
    "actor_id",
    "actor_username",
    "ip_address",
    "user_agent",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "payload_digest",
    "prev_hash",
    "hash",
]


def _postgres_statements(table):
    same = " AND ".join(f"NEW.{column} IS NOT DISTINCT FROM OLD.{column}" for column in UNCHANGED)
    redaction = (
        f"{same} AND OLD.redacted_at IS NULL AND NEW.redacted_at IS NOT NULL"
        " AND NEW.before = '' AND NEW.after = '' AND NEW.detail = ''"
    )
    return [
        f"""
        CREATE OR REPLACE FUNCTION clinic_audit_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $guard$
        BEGIN
            IF TG_OP = 'UPDATE' AND ({redaction}) THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
        END
        $guard$
        """,
        f"DROP TRIGGER IF EXISTS clinic_audit_append_only ON {table}",
        f"""
        CREATE TRIGGER clinic_audit_append_only BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION clinic_audit_append_only()
        """,
    ]


def _sqlite_statements(table):
    changed = " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in UNCHANGED)
    return [
        f"""
        CREATE TRIGGER IF NOT EXISTS clinic_audit_append_only
        BEFORE UPDATE ON {table}
        FOR EACH ROW
        WHEN {changed} OR OLD.redacted_at IS NOT NULL OR NEW.redacted_at IS NULL
            OR NEW.before != '' OR NEW.after != '' OR NEW.detail != ''
        BEGIN
            SELECT RAISE(ABORT, '{MESSAGE}');
        END
        """
    ]


def install_guards(apps, schema_editor):
    table = apps.get_model("clinic", "AuditEntry")._meta.db_table
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = _postgres_statements(table)
    elif vendor == "sqlite":
        statements = _sqlite_statements(table)
    else:
        return
    for statement in statements:
        schema_editor.execute(statement)


def remove_guards(apps, schema_editor):
    table = apps.get_model("clinic", "AuditEntry")._meta.db_table
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS clinic_audit_append_only ON {table}")
        schema_editor.execute("DROP FUNCTION IF EXISTS clinic_audit_append_only()")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS clinic_audit_append_only")


class Migration(migrations.Migration):
    dependencies = [("clinic", "0004_audit_trail_and_patient_erasure")]

    operations = [migrations.RunPython(install_guards, remove_guards)]
