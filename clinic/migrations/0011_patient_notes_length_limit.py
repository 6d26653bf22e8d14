"""A length limit on patient notes: checked by forms and services, not by the database.

State only: the database has nothing to change, and letting Django alter the columns would
make SQLite rebuild the tables, dropping the raw indexes and triggers earlier migrations put
on them (the patient list's name index, the signed-record guards).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0010_audit_views_sealed_without_a_lock"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="patient",
                    name="notes",
                    field=models.TextField(blank=True, max_length=2000),
                ),
            ],
            database_operations=[],
        )
    ]
