"""Copy each patient's latest assessment onto the patient row (the list badge).

Data only and re-runnable: patients assessed before the badge fields existed get them; the
rest are rewritten with the same values. Going back leaves the badge fields as they are (the
schema migration that added them removes them).
"""

from django.db import migrations


def backfill(apps, schema_editor):
    from treatments import rules

    assessment_model = apps.get_model("treatments", "SkinAssessment")
    patient_model = apps.get_model("clinic", "Patient")
    latest = {}
    for assessment in assessment_model.objects.order_by("patient_id", "-assessed_on", "-id"):
        latest.setdefault(assessment.patient_id, assessment)
    for patient_id, assessment in latest.items():
        try:
            facts = rules.AssessmentFacts(
                assessed_on=assessment.assessed_on,
                fitzpatrick=assessment.fitzpatrick,
                skin_type=assessment.skin_type,
                concerns=assessment.concerns,
                scar_type=assessment.scar_type,
                contraindications=frozenset(assessment.contraindications),
                surgery_on=assessment.surgery_on,
                other_contraindication=assessment.other_contraindication,
            )
            screening = rules.screen_assessment(facts, today=assessment.assessed_on)
            badge = {
                "suitability": screening.outcome,
                "suitability_summary": screening.summary,
                "suitability_reasons": list(screening.reasons),
            }
        except ValueError:
            # A value outside today's vocabulary: keep the verdict stored with it.
            badge = {
                "suitability": assessment.outcome,
                "suitability_summary": assessment.outcome_summary,
                "suitability_reasons": [],
            }
        patient_model.objects.filter(pk=patient_id).update(
            assessed_on=assessment.assessed_on, **badge
        )


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0005_assessment_amendment_guard"),
        ("clinic", "0006_patient_suitability_and_birth_date_index"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
