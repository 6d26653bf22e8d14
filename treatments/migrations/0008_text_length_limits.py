"""Length limits on free text: checked by forms and services, not by the database.

State only: the database has nothing to change, and letting Django alter the columns would
make SQLite rebuild the tables, dropping the raw indexes and triggers earlier migrations put
on them (the patient list's name index, the signed-record guards).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0007_series_open_start_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="amendment",
                    name="reason",
                    field=models.TextField(max_length=500),
                ),
                migrations.AlterField(
                    model_name="skinassessment",
                    name="allergies",
                    field=models.TextField(blank=True, max_length=2000),
                ),
                migrations.AlterField(
                    model_name="skinassessment",
                    name="medications",
                    field=models.TextField(blank=True, max_length=2000),
                ),
                migrations.AlterField(
                    model_name="skinassessment",
                    name="notes",
                    field=models.TextField(blank=True, max_length=2000),
                ),
                migrations.AlterField(
                    model_name="treatmentseries",
                    name="suitability_override_reason",
                    field=models.TextField(blank=True, max_length=500),
                ),
                migrations.AlterField(
                    model_name="treatmentsession",
                    name="aftercare_additions",
                    field=models.TextField(
                        blank=True,
                        help_text="Added to the treatment type's aftercare template when signed",
                        max_length=2000,
                    ),
                ),
                migrations.AlterField(
                    model_name="treatmentsession",
                    name="notes",
                    field=models.TextField(blank=True, max_length=2000),
                ),
                migrations.AlterField(
                    model_name="treatmentsession",
                    name="spacing_override_reason",
                    field=models.TextField(blank=True, max_length=500),
                ),
                migrations.AlterField(
                    model_name="treatmenttype",
                    name="aftercare_template",
                    field=models.TextField(blank=True, max_length=5000),
                ),
                migrations.AlterField(
                    model_name="treatmenttype",
                    name="description",
                    field=models.TextField(blank=True, max_length=2000),
                ),
            ],
            database_operations=[],
        )
    ]
