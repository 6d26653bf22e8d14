"""Length limits on free text: checked by forms and services, not by the database.

State only: the database has nothing to change, and letting Django alter the columns would
make SQLite rebuild the tables, dropping the raw indexes and triggers earlier migrations put
on them (the patient list's name index, the signed-record guards).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0011_schedule_version_row"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="appointment",
                    name="notes",
                    field=models.TextField(blank=True, max_length=2000),
                ),
                migrations.AlterField(
                    model_name="appointment",
                    name="spacing_override_reason",
                    field=models.TextField(blank=True, max_length=500),
                ),
                migrations.AlterField(
                    model_name="appointment",
                    name="suitability_override_reason",
                    field=models.TextField(blank=True, max_length=500),
                ),
            ],
            database_operations=[],
        )
    ]
