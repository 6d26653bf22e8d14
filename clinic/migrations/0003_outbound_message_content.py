"""The ledger keeps the rendered email (sent as recorded, even on a retry) and why a row
was skipped; ``kind`` gets its choices."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0002_staff_roles"),
    ]

    operations = [
        migrations.AlterField(
            model_name="outboundmessage",
            name="kind",
            field=models.CharField(
                choices=[
                    ("booking_confirmation", "Booking confirmation"),
                    ("booking_rescheduled", "Booking moved"),
                    ("booking_cancelled", "Booking cancelled"),
                    ("appointment_reminder", "Appointment reminder"),
                    ("aftercare", "Aftercare"),
                    ("series_followup", "Next-session follow-up"),
                    ("maintenance_reminder", "Maintenance reminder"),
                ],
                max_length=40,
            ),
        ),
        migrations.AddField(
            model_name="outboundmessage",
            name="body_text",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="outboundmessage",
            name="body_html",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="outboundmessage",
            name="headers",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="outboundmessage",
            name="attachments",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="outboundmessage",
            name="skip_reason",
            field=models.CharField(blank=True, max_length=300),
        ),
    ]
