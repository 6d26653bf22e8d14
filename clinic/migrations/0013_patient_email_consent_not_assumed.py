"""A new patient's email consent defaults to no (Django applies defaults, not the database).

State only: the database has nothing to change, and letting Django alter the columns would
make SQLite rebuild the tables, dropping the raw indexes and triggers earlier migrations put
on them (the patient list's name index, the signed-record guards).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0012_message_kind_cancelled_by_clinic"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="patient",
                    name="email_reminders",
                    field=models.BooleanField(
                        default=False, verbose_name="Consents to email reminders"
                    ),
                ),
            ],
            database_operations=[],
        )
    ]
