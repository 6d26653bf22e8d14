"""Every amendment has its number, unique per record; then the database guards in their new
form: a signed record changes only with the amendment numbered for that change (written in
the same transaction on PostgreSQL), and signed records, aftercare notes and amendments are
never deleted (see treatments.guards)."""

from django.db import migrations, models

from treatments.guards import install_guards, remove_guards


def install(apps, schema_editor):
    install_guards(schema_editor.connection)


def remove(apps, schema_editor):
    # The older guards come back with the next migrate (post_migrate installs what the
    # columns then allow).
    remove_guards(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("treatments", "0010_amendment_sequence_backfill")]

    operations = [
        migrations.AlterField(
            model_name="amendment",
            name="sequence",
            field=models.PositiveSmallIntegerField(editable=False),
        ),
        migrations.AddConstraint(
            model_name="amendment",
            constraint=models.UniqueConstraint(
                fields=("session", "sequence"), name="amendment_sequence_per_session"
            ),
        ),
        migrations.AddConstraint(
            model_name="amendment",
            constraint=models.UniqueConstraint(
                fields=("assessment", "sequence"), name="amendment_sequence_per_assessment"
            ),
        ),
        migrations.AddConstraint(
            model_name="amendment",
            constraint=models.CheckConstraint(
                condition=models.Q(("sequence__gte", 1)), name="amendment_sequence_from_1"
            ),
        ),
        migrations.RunPython(install, remove),
    ]
