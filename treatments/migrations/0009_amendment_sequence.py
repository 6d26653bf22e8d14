"""Amendments get a number per record and (PostgreSQL) the transaction that wrote them.

Added nullable here, numbered by 0010, required with their constraints and the new
database guards in 0011 (see treatments.guards)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("treatments", "0008_text_length_limits")]

    operations = [
        migrations.AddField(
            model_name="amendment",
            name="sequence",
            field=models.PositiveSmallIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="amendment",
            name="written_in_transaction",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
    ]
