"""The schedule version's one row, so a calendar's first look reads it instead of creating it."""

import uuid

from django.db import migrations


def create_row(apps, schema_editor):
    ScheduleVersion = apps.get_model("bookings", "ScheduleVersion")
    ScheduleVersion.objects.get_or_create(pk=1, defaults={"token": uuid.uuid4().hex})


class Migration(migrations.Migration):
    dependencies = [("bookings", "0010_schedule_version")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
