from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("bookings", "0003_backfill_appointment_blocked_until")]

    operations = [
        migrations.AlterField(
            model_name="appointment",
            name="blocked_until",
            field=models.DateTimeField(),
        ),
    ]
