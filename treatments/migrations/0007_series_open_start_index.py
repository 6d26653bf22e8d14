"""Open series by planned start, for the due list (bookings.selectors.due_series)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0006_patient_badge_backfill"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="treatmentseries",
            index=models.Index(
                condition=models.Q(("status__in", ("planned", "active"))),
                fields=["start_on", "last_session_on", "id"],
                name="series_open_start_idx",
            ),
        ),
    ]
