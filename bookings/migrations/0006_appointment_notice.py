"""What each patient was last told about an appointment, for the booking notices."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0005_appointment_exclusion_constraints"),
        ("clinic", "0003_outbound_message_content"),
    ]

    operations = [
        migrations.CreateModel(
            name="AppointmentNotice",
            fields=[
                (
                    "appointment",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="notice",
                        serialize=False,
                        to="bookings.appointment",
                    ),
                ),
                ("version", models.PositiveIntegerField(default=0)),
                ("changed_at", models.DateTimeField()),
                ("settled_version", models.PositiveIntegerField(default=0)),
                (
                    "told",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "Nothing yet"),
                            ("booked", "Booked"),
                            ("cancelled", "Cancelled"),
                        ],
                        max_length=10,
                    ),
                ),
                ("told_starts_at", models.DateTimeField(blank=True, null=True)),
                ("told_at", models.DateTimeField(blank=True, null=True)),
                (
                    "told_practitioner",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="clinic.practitioner",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["changed_at"], name="appointment_notice_changed_idx")
                ],
            },
        ),
    ]
