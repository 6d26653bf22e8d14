"""An index in the patient list's order (lower-case family name, given name, id) for the search.

A typed search walks the first rows of this index testing each for a match (see
``clinic.selectors.patient_search_page``). On PostgreSQL the index carries the columns that test
reads, so the walk never touches the table (an index-only scan): ``is_active``, ``search_text``,
and the names themselves, because the planner wants a column, not just ``lower(column)``, before
it will answer ``lower(column)`` from the index. SQLite cannot include columns; the plain
expression index still gives it the order without sorting the table.

Raw SQL, outside the model state like the trigram index of 0008: a model ``Index`` with
``include`` draws a system-check warning on SQLite.
"""

from django.db import migrations

INDEX = "patient_name_sort_idx"
KEYS = "lower(family_name), lower(given_name), id"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON clinic_patient ({KEYS}) "
            "INCLUDE (family_name, given_name, is_active, search_text)"
        )
    else:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON clinic_patient ({KEYS})")


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("clinic", "0008_patient_search_trigram_index")]

    operations = [migrations.RunPython(create_index, drop_index)]
