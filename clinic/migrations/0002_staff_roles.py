"""Create the receptionist, practitioner and manager groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from clinic.roles import GROUP_NAMES, sync_role_permissions


def create_roles(apps, schema_editor):
    # Permissions are normally created after migrate finishes; create them now so the
    # groups hold them from this migration on.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_role_permissions(apps)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUP_NAMES.values()).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
