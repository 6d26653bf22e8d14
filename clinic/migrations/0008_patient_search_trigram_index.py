"""PostgreSQL: a trigram GIN index so "search_text LIKE '%...%'" never scans the table.

Not part of the model state (SQLite has no such index; it searches fine at clinic sizes),
so it is raw SQL run only on PostgreSQL. pg_trgm is a trusted extension: the database owner
may create it without superuser rights.
"""

from django.db import migrations

INDEX = "patient_search_trgm_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON clinic_patient USING gin (search_text gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("clinic", "0007_patient_search_text_backfill")]

    operations = [migrations.RunPython(create_index, drop_index)]
