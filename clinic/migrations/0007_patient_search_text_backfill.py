"""Rebuild every patient's search_text in the current form (" given family ... ").

Data only, re-runnable: the builder is frozen here so later changes to the app's builder
do not change what this migration did.
"""

import unicodedata

import phonenumbers
from django.conf import settings
from django.db import migrations

_PLAIN_PUNCTUATION = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2010": "-"})


def _normalise(text):
    text = (text or "").translate(_PLAIN_PUNCTUATION)
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(folded.split())


def _phone_forms(e164, region):
    forms = [e164.lstrip("+")]
    try:
        number = phonenumbers.parse(e164, region)
    except phonenumbers.NumberParseException:
        return forms
    national = "".join(
        ch
        for ch in phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        if ch.isdigit()
    )
    if national and national not in forms:
        forms.append(national)
    return forms


def _search_text(patient, region):
    names = [_normalise(patient.given_name), _normalise(patient.family_name)]
    extra = ["".join(ch for ch in name if ch.isalnum()) for name in names]
    extra.append(_normalise(patient.email))
    if patient.phone:
        extra.append(patient.phone)
        extra.extend(_phone_forms(patient.phone, region))
    full_name = " ".join(name for name in names if name)
    words = [word for word in dict.fromkeys(extra) if word and f" {word} " not in f" {full_name} "]
    return f" {' '.join([full_name, *words]).strip()} "


def rebuild(apps, schema_editor):
    patient_model = apps.get_model("clinic", "Patient")
    region = getattr(settings, "CLINIC_PHONE_REGION", "GB")
    batch = []
    for patient in patient_model.objects.only(
        "given_name", "family_name", "email", "phone", "search_text"
    ).iterator(chunk_size=2000):
        text = _search_text(patient, region)
        if text != patient.search_text:
            patient.search_text = text
            batch.append(patient)
        if len(batch) >= 2000:
            patient_model.objects.bulk_update(batch, ["search_text"])
            batch = []
    if batch:
        patient_model.objects.bulk_update(batch, ["search_text"])


class Migration(migrations.Migration):
    dependencies = [("clinic", "0006_patient_suitability_and_birth_date_index")]

    # The old text is rebuilt from the same columns, so going back needs nothing.
    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
