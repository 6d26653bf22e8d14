"""The treatment catalogue pages: everyone reads, managers add and edit with validation."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.factories import RoomFactory
from treatments.catalogue import DEFAULT_TREATMENT_TYPES
from treatments.models import TreatmentType

pytestmark = pytest.mark.django_db

PEEL_PARAMETERS = [
    {
        "label": "Intensity level",
        "name": "intensity",
        "kind": "int",
        "minimum": "1",
        "maximum": "8",
    },
    {"label": "Tip", "name": "tip", "kind": "choice", "choices": "soft, firm"},
]


def form_data(
    parameters: list[dict[str, str]] | None = None, *, initial: int = 0, **changes: Any
) -> dict[str, Any]:
    """What the browser posts for the treatment form with these parameter rows."""
    rows = PEEL_PARAMETERS if parameters is None else parameters
    data: dict[str, Any] = {
        "name": "Hydra peel",
        "modality": "other",
        "description": "",
        "default_duration_minutes": 40,
        "extra_area_minutes": 15,
        "buffer_minutes": 10,
        "min_interval_days": 14,
        "max_interval_days": 28,
        "maintenance_interval_days": 30,
        "sessions_mild": 3,
        "sessions_moderate": 5,
        "sessions_severe": 7,
        "aftercare_template": "Moisturise and wear sunscreen.",
        "is_active": "on",
        "parameters-TOTAL_FORMS": len(rows),
        "parameters-INITIAL_FORMS": initial,
        "parameters-MIN_NUM_FORMS": 0,
        "parameters-MAX_NUM_FORMS": 20,
    }
    for index, row in enumerate(rows):
        for key, value in {"required": "on", **row}.items():
            data[f"parameters-{index}-{key}"] = value
    data.update(changes)
    return data


def test_everyone_can_read_the_catalogue(client: Any, receptionist: Any) -> None:
    client.force_login(receptionist)

    listing = client.get(reverse("treatments:treatmenttype_list"))
    crystal = TreatmentType.objects.get(name="Crystal microdermabrasion")
    detail = client.get(reverse("treatments:treatmenttype_detail", args=[crystal.pk]))

    assert [t.name for t in listing.context["page_obj"]] == [
        e["name"] for e in DEFAULT_TREATMENT_TYPES
    ]
    assert "Add a treatment" not in listing.content.decode()
    assert "14 to 28 days" in detail.content.decode()
    assert "Passes" in detail.content.decode()
    assert "Edit" not in detail.content.decode()


@pytest.mark.parametrize("user", ["receptionist", "practitioner_user"])
def test_only_managers_may_change_the_catalogue(client: Any, user: str, request: Any) -> None:
    client.force_login(request.getfixturevalue(user))
    crystal = TreatmentType.objects.get(name="Crystal microdermabrasion")

    assert client.get(reverse("treatments:treatmenttype_create")).status_code == 403
    assert client.post(reverse("treatments:treatmenttype_create"), form_data()).status_code == 403
    assert (
        client.get(reverse("treatments:treatmenttype_update", args=[crystal.pk])).status_code == 403
    )


def test_the_catalogue_list_runs_a_fixed_number_of_queries(
    client: Any, manager: Any, django_assert_num_queries: Any
) -> None:
    room = RoomFactory(name="Room 9")
    for index in range(5):
        extra = TreatmentType.objects.create(
            name=f"Peel {index}", modality="other", aftercare_template="Care."
        )
        extra.rooms.add(room)
    client.force_login(manager)
    client.get(reverse("treatments:treatmenttype_list"))

    # session, user with roles, count, page of types, their rooms; saving the session takes 3.
    with django_assert_num_queries(8):
        response = client.get(reverse("treatments:treatmenttype_list"))

    assert len(response.context["page_obj"]) == 8


def test_a_manager_adds_a_treatment_with_its_parameters_and_rooms(
    client: Any, manager: Any
) -> None:
    room = RoomFactory(name="Room 4 (peels)")
    client.force_login(manager)

    response = client.post(
        reverse("treatments:treatmenttype_create"), form_data(rooms=[room.pk]), follow=True
    )

    peel = TreatmentType.objects.get(name="Hydra peel")
    assert "Hydra peel added to the catalogue." in response.content.decode()
    assert peel.parameter_schema == [
        {"name": "intensity", "label": "Intensity level", "type": "int", "min": 1, "max": 8},
        {"name": "tip", "label": "Tip", "type": "choice", "choices": ["soft", "firm"]},
    ]
    assert list(peel.rooms.all()) == [room]


def test_empty_parameter_rows_are_ignored_and_rows_can_be_removed(
    client: Any, manager: Any
) -> None:
    client.force_login(manager)
    rows = [*PEEL_PARAMETERS, {"label": "", "name": "", "kind": "int", "required": "on"}]
    rows[1] = {**rows[1], "DELETE": "on"}

    client.post(reverse("treatments:treatmenttype_create"), form_data(rows))

    assert [p["name"] for p in TreatmentType.objects.get(name="Hydra peel").parameter_schema] == [
        "intensity"
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [{"label": "Passes", "name": "passes", "kind": "int", "minimum": "3", "maximum": "1"}],
            "The highest value must not be below the lowest.",
        ),
        (
            [
                {
                    "label": "Passes",
                    "name": "passes",
                    "kind": "int",
                    "minimum": "1",
                    "maximum": "3",
                },
                {"label": "More", "name": "passes", "kind": "int", "minimum": "1", "maximum": "3"},
            ],
            "Parameter 1 already uses the name &#x27;passes&#x27;",
        ),
        (
            [{"label": "Tip", "name": "tip", "kind": "choice", "choices": ""}],
            "List the options, separated by commas.",
        ),
        (
            [{"label": "Flow", "name": "Flow rate", "kind": "int", "minimum": "1", "maximum": "3"}],
            "the name must start with a lower-case letter",
        ),
    ],
    ids=["min-above-max", "duplicate-name", "choice-without-options", "bad-name"],
)
def test_a_broken_parameter_row_is_shown_with_its_reason_and_nothing_is_saved(
    client: Any, manager: Any, rows: list[dict[str, str]], message: str
) -> None:
    client.force_login(manager)

    response = client.post(reverse("treatments:treatmenttype_create"), form_data(rows))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert "nothing has been saved yet" in response.content.decode()
    assert 'value="Hydra peel"' in response.content.decode()
    assert not TreatmentType.objects.filter(name="Hydra peel").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"min_interval_days": 28, "max_interval_days": 14},
            "The maximum interval (14 days) must not be shorter than the minimum (28 days).",
        ),
        ({"name": "crystal microdermabrasion"}, "There is already a treatment called"),
        ({"sessions_mild": 6, "sessions_moderate": 4}, "More severe concerns need at least"),
        ({"min_interval_days": 0}, "Minimum days between series sessions must be between 1"),
        ({"aftercare_template": " "}, "Write the aftercare template: every signed session"),
    ],
    ids=[
        "max-below-min",
        "duplicate-name",
        "counts-shrink-with-severity",
        "zero-gap",
        "no-aftercare",
    ],
)
def test_impossible_treatment_settings_are_refused_with_a_reason(
    client: Any, manager: Any, changes: dict[str, Any], message: str
) -> None:
    client.force_login(manager)

    response = client.post(reverse("treatments:treatmenttype_create"), form_data(**changes))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert TreatmentType.objects.count() == len(DEFAULT_TREATMENT_TYPES)


def test_a_manager_changes_the_passes_range_of_an_existing_treatment(
    client: Any, manager: Any
) -> None:
    crystal = TreatmentType.objects.get(name="Crystal microdermabrasion")
    client.force_login(manager)
    page = client.get(reverse("treatments:treatmenttype_update", args=[crystal.pk]))
    rows = [
        {
            "label": spec["label"],
            "name": spec["name"],
            "kind": spec["type"],
            "minimum": str(spec["min"]),
            "maximum": str(spec["max"] if spec["name"] != "passes" else 2),
        }
        for spec in crystal.parameter_schema
    ]

    response = client.post(
        reverse("treatments:treatmenttype_update", args=[crystal.pk]),
        form_data(
            rows,
            initial=len(rows),
            name=crystal.name,
            modality=crystal.modality,
            aftercare_template=crystal.aftercare_template,
        ),
    )
    crystal.refresh_from_db()

    assert page.context["formset"].initial_form_count() == 4
    assert response.status_code == 302
    assert crystal.parameter_schema[-1] == {
        "name": "passes",
        "label": "Passes",
        "type": "int",
        "min": 1,
        "max": 2,
    }
    assert crystal.default_duration_minutes == 40
