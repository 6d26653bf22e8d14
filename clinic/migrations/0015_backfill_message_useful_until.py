"""Give every message recorded before ``useful_until`` existed a limit, so a message that
cannot go is retried only while it is worth sending.

The limits are those of ``clinic.messaging.USEFUL_FOR`` when this was written, copied here
(a migration must not change when the code does). What a message is about is not read, so
the limits are not cut at the appointment's start, except for reminders: two hours after
they fell due, the shortest reminder offset, so a reminder never goes after its
appointment started. Re-runnable: only rows without a limit are touched.
"""

from __future__ import annotations

import datetime as dt

from django.db import migrations
from django.db.models import F

USEFUL_FOR_DAYS = {
    "booking_confirmation": 3,
    "booking_rescheduled": 3,
    "booking_cancelled": 3,
    "cancelled_by_clinic": 7,
    "aftercare": 7,
    "series_followup": 7,
    "maintenance_reminder": 7,
}
REMINDER_HOURS = 2


def backfill(apps, schema_editor):
    OutboundMessage = apps.get_model("clinic", "OutboundMessage")
    unset = OutboundMessage.objects.filter(useful_until__isnull=True)
    unset.filter(kind="appointment_reminder").update(
        useful_until=F("due_at") + dt.timedelta(hours=REMINDER_HOURS)
    )
    for kind, days in USEFUL_FOR_DAYS.items():
        unset.filter(kind=kind).update(useful_until=F("due_at") + dt.timedelta(days=days))


class Migration(migrations.Migration):
    dependencies = [("clinic", "0014_message_useful_until_and_mail_server_state")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
