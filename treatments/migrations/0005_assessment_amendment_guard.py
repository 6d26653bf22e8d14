"""Signed skin assessments change only through an amendment: a count the amendment service
bumps, a check that signing records who, and the database trigger (treatments.guards)."""

from django.conf import settings
from django.db import migrations, models

from treatments.guards import install_guards


def install(apps, schema_editor):
    install_guards(schema_editor.connection)


def drop_assessment_guard(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER IF EXISTS treatments_assessment_signed_guard")
        elif connection.vendor == "postgresql":
            cursor.execute(
                "DROP TRIGGER IF EXISTS treatments_assessment_signed_guard"
                " ON treatments_skinassessment"
            )
            cursor.execute("DROP FUNCTION IF EXISTS treatments_assessment_signed_guard()")


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0004_signed_records_guard"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="skinassessment",
            name="amendment_count",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddConstraint(
            model_name="skinassessment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("signed_at__isnull", True), ("signed_by__isnull", True)),
                    models.Q(("signed_at__isnull", False), ("signed_by__isnull", False)),
                    _connector="OR",
                ),
                name="assessment_signed_by_whom",
            ),
        ),
        migrations.AddConstraint(
            model_name="skinassessment",
            constraint=models.CheckConstraint(
                condition=models.Q(("fitzpatrick__gte", 1), ("fitzpatrick__lte", 6)),
                name="assessment_fitzpatrick_range",
            ),
        ),
        migrations.RunPython(install, drop_assessment_guard),
    ]
