"""Views of records join the audit chain later: ``seq`` may be empty until sealed.

Recording that someone read a record no longer takes the chain's lock (every page view of
a clinical record used to queue behind one row). The entry is written with no ``seq`` and
no hash, and ``clinic.audit.seal_pending`` links pending entries into the chain in the
order they were written. The append-only guards are rewritten to allow exactly that one
extra change (an entry without ``seq`` gets ``seq``, ``prev_hash`` and ``hash``, nothing
else), besides GDPR redaction. On SQLite, altering the column rebuilds the table, which
drops its triggers, so they are installed again after it. Both directions are safe to
run again.
"""

from django.db import migrations, models

MESSAGE = "The audit trail is append-only."

UNCHANGED = [
    "id",
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
]
CHAIN = ["seq", "prev_hash", "hash"]
PAYLOAD = ["before", "after", "detail", "redacted_at"]


def _same(columns, same):
    return " AND ".join(same(column) for column in columns)


def _allowed(same):
    redaction = (
        f"{_same(UNCHANGED + CHAIN, same)} AND OLD.redacted_at IS NULL"
        " AND NEW.redacted_at IS NOT NULL"
        " AND NEW.before = '' AND NEW.after = '' AND NEW.detail = ''"
    )
    sealing = (
        f"{_same(UNCHANGED + PAYLOAD, same)} AND OLD.seq IS NULL AND NEW.seq IS NOT NULL"
        " AND OLD.hash = '' AND NEW.hash <> '' AND NEW.prev_hash <> ''"
    )
    return f"(({redaction}) OR ({sealing}))"


def _postgres_statements(table):
    allowed = _allowed(lambda column: f"NEW.{column} IS NOT DISTINCT FROM OLD.{column}")
    return [
        f"""
        CREATE OR REPLACE FUNCTION clinic_audit_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $guard$
        BEGIN
            IF TG_OP = 'UPDATE' AND {allowed} THEN
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
    allowed = _allowed(lambda column: f"NEW.{column} IS OLD.{column}")
    return [
        "DROP TRIGGER IF EXISTS clinic_audit_append_only",
        f"""
        CREATE TRIGGER clinic_audit_append_only
        BEFORE UPDATE ON {table}
        FOR EACH ROW
        WHEN NOT {allowed}
        BEGIN
            SELECT RAISE(ABORT, '{MESSAGE}');
        END
        """,
    ]


def _previous_sqlite_statements(table):
    # The guard of 0005 (redaction only), for going back.
    columns = ["seq", *UNCHANGED, "prev_hash", "hash"]
    changed = " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in columns)
    return [
        "DROP TRIGGER IF EXISTS clinic_audit_append_only",
        f"""
        CREATE TRIGGER clinic_audit_append_only
        BEFORE UPDATE ON {table}
        FOR EACH ROW
        WHEN {changed} OR OLD.redacted_at IS NOT NULL OR NEW.redacted_at IS NULL
            OR NEW.before != '' OR NEW.after != '' OR NEW.detail != ''
        BEGIN
            SELECT RAISE(ABORT, '{MESSAGE}');
        END
        """,
    ]


def _previous_postgres_statements(table):
    same = _same(
        ["seq", *UNCHANGED, "prev_hash", "hash"],
        lambda column: f"NEW.{column} IS NOT DISTINCT FROM OLD.{column}",
    )
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
        """
    ]


def _run(schema_editor, apps, postgres, sqlite):
    table = apps.get_model("clinic", "AuditEntry")._meta.db_table
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": postgres, "sqlite": sqlite}.get(vendor)
    for statement in statements(table) if statements else []:
        schema_editor.execute(statement)


def install_guards(apps, schema_editor):
    _run(schema_editor, apps, _postgres_statements, _sqlite_statements)


def restore_previous_guards(apps, schema_editor):
    _run(schema_editor, apps, _previous_postgres_statements, _previous_sqlite_statements)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0009_patient_name_sort_index")]

    operations = [
        migrations.AlterModelOptions(
            name="auditentry",
            options={
                "ordering": [
                    models.OrderBy(models.F("seq"), descending=True, nulls_first=True),
                    "-id",
                ],
                "verbose_name_plural": "audit entries",
            },
        ),
        # Going back, the previous guards go on after the column change (SQLite's rebuild
        # of the table would drop them).
        migrations.RunPython(migrations.RunPython.noop, restore_previous_guards),
        migrations.AlterField(
            model_name="auditentry",
            name="seq",
            field=models.PositiveBigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.RunPython(install_guards, migrations.RunPython.noop),
    ]
