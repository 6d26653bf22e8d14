"""Number each record's existing amendments 1, 2, ... in the order they were written (the
amendment services always moved the record's amendment_count with each, so the last number
is the count). Re-runnable; reversing forgets the numbers.

Amendment rows are guarded against every UPDATE: the guard is lifted for the numbering and
put back, in its new form, by 0011 (and by every migrate, see treatments.guards)."""

from django.db import migrations

AMENDMENT_GUARD = "treatments_amendment_guard"


def _lift_amendment_guard(schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {AMENDMENT_GUARD}")
    elif connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {AMENDMENT_GUARD} ON treatments_amendment")


def number_amendments(apps, schema_editor):
    _lift_amendment_guard(schema_editor)
    Amendment = apps.get_model("treatments", "Amendment")
    counts: dict[tuple[str, int], int] = {}
    for amendment in Amendment.objects.order_by("amended_at", "id"):
        key = (
            ("session", amendment.session_id)
            if amendment.session_id
            else ("assessment", amendment.assessment_id)
        )
        counts[key] = counts.get(key, 0) + 1
        if amendment.sequence != counts[key]:
            Amendment.objects.filter(pk=amendment.pk).update(sequence=counts[key])


def forget_numbers(apps, schema_editor):
    _lift_amendment_guard(schema_editor)
    apps.get_model("treatments", "Amendment").objects.update(sequence=None)


class Migration(migrations.Migration):
    dependencies = [("treatments", "0009_amendment_sequence")]

    operations = [migrations.RunPython(number_amendments, forget_numbers)]
