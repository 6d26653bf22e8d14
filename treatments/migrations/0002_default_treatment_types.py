"""Install the default treatment catalogue (re-runnable: existing names are left alone)."""

from django.db import migrations

from treatments.catalogue import DEFAULT_TREATMENT_TYPES


def install_catalogue(apps, schema_editor):
    treatment_type = apps.get_model("treatments", "TreatmentType")
    for entry in DEFAULT_TREATMENT_TYPES:
        treatment_type.objects.get_or_create(name=entry["name"], defaults=entry)


def remove_catalogue(apps, schema_editor):
    treatment_type = apps.get_model("treatments", "TreatmentType")
    names = [entry["name"] for entry in DEFAULT_TREATMENT_TYPES]
    # Only rows nothing refers to yet can go; PROTECT keeps the rest.
    treatment_type.objects.filter(name__in=names, rooms__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("treatments", "0001_initial")]

    operations = [migrations.RunPython(install_catalogue, remove_catalogue)]
