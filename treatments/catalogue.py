"""The default treatment catalogue: the three modalities the clinic starts with.

Used by the data migration that installs it and by ``seed_demo``. Managers edit the
installed rows afterwards; changing this file does not change existing clinics.
"""

from __future__ import annotations

from typing import Any

AFTERCARE_MICRODERMABRASION = """\
Looking after your skin after microdermabrasion

What is normal
- Your skin may look pink or red and feel slightly tight or sensitive, like mild windburn.
  This usually fades within a few hours to a day; on sensitive skin it can last a little longer.
- Mild swelling, light flaking or dryness over the next few days is expected.

What to do
- Apply a gentle, soothing moisturiser morning and evening for the next few days.
- Wear a broad-spectrum sunscreen (SPF 30 or higher) every day and avoid direct sun,
  sunbeds and saunas for at least a week: your skin is more sensitive to UV light.
- You can return to normal activities straight away. Makeup is usually fine from the next
  day, or sooner if your practitioner said so.
- Avoid exfoliating scrubs, retinoids and acids for 3 days.

When to call us
- Call the clinic if redness lasts longer than 3 days, gets worse rather than better, or if
  you notice signs of infection (heat, increasing pain, swelling, pus or fever).
"""

AFTERCARE_MICRONEEDLING = """\
Looking after your skin after microneedling

What is normal
- Redness like a mild sunburn for 1-2 days, slight swelling and a feeling of tightness.
- Light flaking or dryness between day 2 and day 5.

What to do
- Keep the skin clean; use only a gentle cleanser and a soothing moisturiser for 48 hours.
- No makeup for 24 hours. Avoid swimming pools, saunas, heavy exercise and sun for 48 hours.
- Wear a broad-spectrum sunscreen (SPF 30 or higher) every day and avoid direct sun.
- Avoid retinoids, acids and exfoliants for 5 days.

When to call us
- Call the clinic if redness lasts longer than 3 days or you notice signs of infection
  (heat, increasing pain, swelling, pus or fever).
"""

PASSES = {"name": "passes", "label": "Passes", "type": "int", "min": 1, "max": 3}
VACUUM = {"name": "vacuum", "label": "Vacuum / pressure level", "type": "int", "min": 1, "max": 10}
INTENSITY = {"name": "intensity", "label": "Intensity level", "type": "int", "min": 1, "max": 10}

DEFAULT_TREATMENT_TYPES: list[dict[str, Any]] = [
    {
        "name": "Crystal microdermabrasion",
        "modality": "crystal",
        "description": "A stream of fine crystals exfoliates the surface; vacuum removes debris.",
        "default_duration_minutes": 30,
        "extra_area_minutes": 15,
        "buffer_minutes": 10,
        "min_interval_days": 14,
        "max_interval_days": 28,
        "maintenance_interval_days": 30,
        "sessions_mild": 4,
        "sessions_moderate": 6,
        "sessions_severe": 8,
        "parameter_schema": [
            INTENSITY,
            VACUUM,
            {"name": "crystal_flow", "label": "Crystal flow", "type": "int", "min": 1, "max": 10},
            PASSES,
        ],
        "aftercare_template": AFTERCARE_MICRODERMABRASION,
    },
    {
        "name": "Diamond-tip microdermabrasion",
        "modality": "diamond",
        "description": "A diamond-tipped wand polishes the surface while vacuum lifts debris.",
        "default_duration_minutes": 30,
        "extra_area_minutes": 15,
        "buffer_minutes": 10,
        "min_interval_days": 14,
        "max_interval_days": 28,
        "maintenance_interval_days": 30,
        "sessions_mild": 4,
        "sessions_moderate": 6,
        "sessions_severe": 8,
        "parameter_schema": [
            INTENSITY,
            VACUUM,
            {
                "name": "tip",
                "label": "Diamond tip grit",
                "type": "choice",
                "choices": ["fine", "medium", "coarse"],
            },
            PASSES,
        ],
        "aftercare_template": AFTERCARE_MICRODERMABRASION,
    },
    {
        "name": "Microneedling (nano tip)",
        "modality": "microneedling",
        "description": "Pen device with a nano tip for microderm, or 12/36-needle cartridges.",
        "default_duration_minutes": 45,
        "extra_area_minutes": 15,
        "buffer_minutes": 15,
        "min_interval_days": 28,
        "max_interval_days": 42,
        "maintenance_interval_days": 90,
        "sessions_mild": 3,
        "sessions_moderate": 4,
        "sessions_severe": 6,
        "parameter_schema": [
            {
                "name": "cartridge",
                "label": "Cartridge",
                "type": "choice",
                "choices": ["nano", "12", "36"],
            },
            {
                "name": "depth_mm",
                "label": "Needle depth (mm)",
                "type": "decimal",
                "min": 0,
                "max": 2.0,
                "step": 0.25,
            },
            {"name": "speed", "label": "Speed", "type": "int", "min": 1, "max": 3},
            PASSES,
        ],
        "aftercare_template": AFTERCARE_MICRONEEDLING,
    },
]
