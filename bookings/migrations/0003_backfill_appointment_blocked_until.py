"""Fill ``blocked_until`` (end plus the treatment type's cleanup buffer) on existing rows.

Re-runnable: only rows still missing the value are touched. Reversing leaves the values in
place (the previous schema simply ignores a filled nullable column).
"""

from __future__ import annotations

import datetime as dt

from django.db import migrations


def fill_blocked_until(apps, schema_editor):
    appointment_model = apps.get_model("bookings", "Appointment")
    missing = appointment_model.objects.filter(blocked_until__isnull=True).select_related(
        "treatment_type"
    )
    for appointment in missing.iterator(chunk_size=500):
        appointment.blocked_until = appointment.ends_at + dt.timedelta(
            minutes=appointment.treatment_type.buffer_minutes
        )
        appointment.save(update_fields=["blocked_until"])


class Migration(migrations.Migration):
    dependencies = [("bookings", "0002_appointment_history_settings_tokens")]

    operations = [migrations.RunPython(fill_blocked_until, migrations.RunPython.noop)]
