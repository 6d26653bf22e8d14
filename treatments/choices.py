"""The clinic's clinical vocabulary, shared by models, forms and the pure rules.

These are plain ``TextChoices`` enums: importing them touches no database, so
``treatments.rules`` can use them and stay pure.
"""

from __future__ import annotations

from django.db import models

# One vocabulary for the badge on patient pages (clinic) and the screening rules (here).
from clinic.choices import Suitability

__all__ = [
    "Concern",
    "Contraindication",
    "Fitzpatrick",
    "Modality",
    "Redness",
    "ScarType",
    "SeriesStatus",
    "Severity",
    "SkinType",
    "Suitability",
    "TreatedArea",
]


class Modality(models.TextChoices):
    CRYSTAL = "crystal", "Crystal microdermabrasion"
    DIAMOND = "diamond", "Diamond-tip microdermabrasion"
    MICRONEEDLING = "microneedling", "Microneedling (nano tip)"
    OTHER = "other", "Other"


class SkinType(models.TextChoices):
    NORMAL = "normal", "Normal"
    DRY = "dry", "Dry"
    OILY = "oily", "Oily"
    COMBINATION = "combination", "Combination"
    SENSITIVE = "sensitive", "Sensitive"


class Fitzpatrick(models.IntegerChoices):
    I = 1, "I (always burns, never tans)"  # noqa: E741 - Fitzpatrick types are roman numerals
    II = 2, "II (usually burns, tans minimally)"
    III = 3, "III (sometimes burns, tans uniformly)"
    IV = 4, "IV (burns minimally, always tans)"
    V = 5, "V (very rarely burns, tans easily)"
    VI = 6, "VI (never burns, deeply pigmented)"


class Concern(models.TextChoices):
    DULL_ROUGH = "dull_rough", "Dull or rough skin"
    UNEVEN_TEXTURE = "uneven_texture", "Uneven texture"
    CONGESTED_PORES = "congested_pores", "Congested or enlarged pores"
    OILY_SKIN = "oily_skin", "Oily skin"
    DRY_FLAKY = "dry_flaky", "Dry, flaky patches"
    FINE_LINES = "fine_lines", "Fine lines and early wrinkles"
    AGE_SPOTS = "age_spots", "Age spots"
    SUN_DAMAGE = "sun_damage", "Mild sun damage"
    HYPERPIGMENTATION = "hyperpigmentation", "Superficial hyperpigmentation / uneven tone"
    ACNE_SCARS = "acne_scars", "Shallow acne scars"


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class ScarType(models.TextChoices):
    NONE = "none", "None"
    SHALLOW = "shallow", "Shallow / depressed"
    ROLLING = "rolling", "Rolling"
    BOXCAR = "boxcar", "Boxcar"
    ICE_PICK = "ice_pick", "Ice-pick"
    KELOID = "keloid", "Keloid / hypertrophic"


class Contraindication(models.TextChoices):
    ACTIVE_ACNE = "active_acne", "Active, inflamed acne"
    SEVERE_ACNE = "severe_acne", "Severe acne"
    ROSACEA = "rosacea", "Rosacea"
    ECZEMA = "eczema", "Eczema"
    RECENT_SURGERY = "recent_surgery", "Recent facial surgery"
    FRAGILE_SKIN = "fragile_skin", "Very reactive or fragile skin"
    SUN_EXPOSURE = "sun_exposure", "Recent sun exposure or sunburn"
    BROKEN_SKIN = "broken_skin", "Broken skin or infection in the area"
    OTHER = "other", "Other"


class TreatedArea(models.TextChoices):
    FACE = "face", "Face"
    NECK = "neck", "Neck"
    CHEST = "chest", "Chest / décolletage"
    BACK = "back", "Back"
    HANDS = "hands", "Hands"
    OTHER = "other", "Other"


class Redness(models.TextChoices):
    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    MARKED = "marked", "Marked"


class SeriesStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    MAINTENANCE = "maintenance", "Maintenance"
    STOPPED = "stopped", "Stopped"
