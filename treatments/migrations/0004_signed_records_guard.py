"""Database triggers so nothing changes a signed clinical record silently (see guards.py)."""

from django.db import migrations

from treatments.guards import install_guards, remove_guards


def install(apps, schema_editor):
    install_guards(schema_editor.connection)


def remove(apps, schema_editor):
    remove_guards(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("treatments", "0003_series_sessions_audit_fields")]

    operations = [migrations.RunPython(install, remove)]
