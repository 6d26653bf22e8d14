"""Denormalised latest screening on patients (badges without a query per row), and an index
on date of birth for the possible-duplicate check."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("clinic", "0005_audit_trail_database_guards")]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="suitability",
            field=models.CharField(
                choices=[
                    ("suitable", "Suitable"),
                    ("caution", "Caution"),
                    ("not_suitable", "Not suitable"),
                    ("unknown", "No assessment yet"),
                ],
                default="unknown",
                editable=False,
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="patient",
            name="suitability_summary",
            field=models.CharField(blank=True, editable=False, max_length=300),
        ),
        migrations.AddField(
            model_name="patient",
            name="suitability_reasons",
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.AddField(
            model_name="patient",
            name="assessed_on",
            field=models.DateField(
                blank=True, editable=False, null=True, verbose_name="Last assessed on"
            ),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(fields=["date_of_birth"], name="patient_birth_date_idx"),
        ),
    ]
