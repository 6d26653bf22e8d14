"""Patient pages: who may open them, the list and its search, create/edit with duplicates,
archiving."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic import clock
from clinic.models import Patient
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

DASH = "\N{EN DASH}"  # between the first and last row shown: "Showing 1 to 25"


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff(receptionist: Any, practitioner: Any, manager: Any) -> dict[str, Any]:
    return {"receptionist": receptionist, "practitioner": practitioner.user, "manager": manager}


def patient_form(**changes: Any) -> dict[str, Any]:
    values = {
        "given_name": "Grace",
        "family_name": "Thompson",
        "date_of_birth": "1985-02-14",
        "email": "grace@patients.example",
        "phone": "07700 900777",
        "preferred_contact": "email",
        "email_reminders": "on",
        "notes": "",
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


# --- Who may open what ------------------------------------------------------------------------

PATIENT_PAGES = [
    ("clinic:patient_list", False),
    ("clinic:patient_create", False),
    ("clinic:patient_detail", True),
    ("clinic:patient_update", True),
    ("clinic:patient_archive", True),
]


@pytest.mark.parametrize(("url_name", "needs_patient"), PATIENT_PAGES)
@pytest.mark.parametrize("role", ["receptionist", "practitioner", "manager"])
def test_every_staff_role_opens_every_patient_page(
    staff: dict[str, Any], patient: Any, url_name: str, needs_patient: bool, role: str
):
    url = reverse(url_name, args=[patient.pk] if needs_patient else [])

    assert signed_in(staff[role]).get(url).status_code == 200


@pytest.mark.parametrize(("url_name", "needs_patient"), PATIENT_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(patient: Any, url_name: str, needs_patient: bool):
    url = reverse(url_name, args=[patient.pk] if needs_patient else [])

    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("url_name", "needs_patient"), PATIENT_PAGES)
def test_a_user_without_a_role_is_refused(patient: Any, url_name: str, needs_patient: bool):
    url = reverse(url_name, args=[patient.pk] if needs_patient else [])

    assert signed_in(UserFactory(username="norole")).get(url).status_code == 403


def test_a_user_without_a_role_cannot_archive_by_post(patient: Any):
    response = signed_in(UserFactory(username="norole")).post(
        reverse("clinic:patient_archive", args=[patient.pk])
    )

    assert response.status_code == 403
    patient.refresh_from_db()
    assert patient.is_active


@pytest.mark.parametrize("role", ["receptionist", "practitioner", "manager"])
def test_patients_is_in_the_navigation_for_every_role(staff: dict[str, Any], role: str):
    response = signed_in(staff[role]).get(reverse("home"))

    assert any(item["label"] == "Patients" for item in response.context["nav_items"])


def test_an_unknown_patient_is_a_404(receptionist: Any):
    assert (
        signed_in(receptionist).get(reverse("clinic:patient_detail", args=[999])).status_code == 404
    )


# --- The list -----------------------------------------------------------------------------------


def list_page(user: Any, **params: Any) -> Any:
    return signed_in(user).get(reverse("clinic:patient_list"), params)


def test_the_list_finds_a_patient_by_part_of_a_name_without_accents(
    receptionist: Any, patient: Any
):
    PatientFactory(given_name="Liam", family_name="Walsh")

    response = list_page(receptionist, q="zoe ade")

    assert [row[0] for row in response.context["rows"]] == [patient]
    assert "1 patient matches “zoe ade”" in response.content.decode()


def test_the_list_is_paginated_25_to_a_page_and_keeps_the_search_on_later_pages(
    receptionist: Any,
):
    PatientFactory.create_batch(30, family_name="Example")

    first = list_page(receptionist, q="example")
    second = list_page(receptionist, q="example", page=2)

    assert len(first.context["rows"]) == 25
    assert len(second.context["rows"]) == 5
    assert 'href="?q=example&amp;page=2" rel="next"' in first.content.decode()
    assert 'href="?q=example&amp;page=1" rel="prev"' in second.content.decode()
    assert f"Showing 26{DASH}30 of 30 patients matching “example”." in second.content.decode()


@pytest.mark.parametrize(("matching", "has_next_link"), [(25, False), (26, True)])
def test_the_next_page_link_appears_exactly_when_more_patients_match(
    receptionist: Any, matching: int, has_next_link: bool
):
    PatientFactory.create_batch(matching, family_name="Example")

    html = list_page(receptionist, q="example").content.decode()

    assert ('rel="next"' in html) is has_next_link
    assert ('data-testid="patient-pages"' in html) is has_next_link


def test_a_search_with_more_matches_than_a_page_says_so_without_counting_them(
    receptionist: Any,
):
    PatientFactory.create_batch(26, family_name="Example")

    html = list_page(receptionist, q="example").content.decode()

    assert (
        f"Showing 1{DASH}25 · more patients match “example”: type more of the name, "
        "or go to the next page." in html
    )
    assert "26" not in html.split('id="result-summary"')[1].split("</p>")[0]
    assert f">1{DASH}25</span>" in html  # the pager names the rows shown, not "page 1 of 2"
    assert " of 2" not in html


def test_a_search_that_fits_one_page_gives_its_total(receptionist: Any):
    PatientFactory.create_batch(25, family_name="Example")

    assert "25 patients match “example”." in list_page(receptionist, q="example").content.decode()


def test_a_search_page_past_the_last_match_offers_the_first_page(receptionist: Any):
    PatientFactory.create_batch(3, family_name="Example")

    response = list_page(receptionist, q="example", page=4)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="past-the-end"' in html
    assert "No more patients match “example” on page 4." in html
    assert '<a href="?q=example">Go to the first page</a>' in html


def test_browsing_without_a_search_shows_the_total_and_the_same_pager(receptionist: Any):
    PatientFactory.create_batch(30, family_name="Example")

    first = list_page(receptionist).content.decode()
    second = list_page(receptionist, page=2).content.decode()

    assert f"Showing 1{DASH}25 of 30 active patients." in first
    assert 'href="?page=2" rel="next"' in first
    assert f"Showing 26{DASH}30 of 30 active patients." in second
    assert f">26{DASH}30</span>" in second


def test_the_pages_of_a_search_load_into_the_results_with_htmx(receptionist: Any):
    PatientFactory.create_batch(30, family_name="Example")

    response = signed_in(receptionist).get(
        reverse("clinic:patient_list"), {"q": "example", "page": 2}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "<html" not in html
    assert 'hx-boost="true" hx-target="#patient-results"' in html
    assert f'hx-swap-oob="true">Showing 26{DASH}30 of 30 patients matching “example”.' in html


def test_a_page_number_past_the_end_shows_the_last_page(receptionist: Any):
    PatientFactory.create_batch(3)

    response = list_page(receptionist, page=99)

    assert response.status_code == 200
    assert len(response.context["rows"]) == 3


def test_search_as_you_type_gets_only_the_results_and_the_count(receptionist: Any, patient: Any):
    response = signed_in(receptionist).get(
        reverse("clinic:patient_list"), {"q": "adeyemi"}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="result-summary"' in html
    assert 'hx-swap-oob="true"' in html
    assert "Adeyemi, Zoë" in html
    assert "HX-Request" in response["Vary"]


def test_going_back_to_a_search_in_history_gets_the_whole_page(receptionist: Any, patient: Any):
    response = signed_in(receptionist).get(
        reverse("clinic:patient_list"),
        {"q": "adeyemi"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )

    assert "<html" in response.content.decode()


def test_the_search_form_works_without_javascript(receptionist: Any, patient: Any):
    html = list_page(receptionist).content.decode()

    assert '<form method="get" action="/patients/"' in html
    assert 'name="q"' in html
    assert '<button type="submit"' in html
    assert '<label class="form-label" for="id_q">Search patients</label>' in html


def test_an_empty_clinic_says_how_to_add_the_first_patient(receptionist: Any):
    response = list_page(receptionist)

    assert "No patients yet" in response.content.decode()
    assert reverse("clinic:patient_create") in response.content.decode()


def test_a_search_that_finds_nobody_offers_to_add_the_patient_with_the_name_filled_in(
    receptionist: Any, patient: Any
):
    response = list_page(receptionist, q="mei chen")

    html = response.content.decode()
    assert "No active patient matches “mei chen”" in html
    assert "/patients/new/?given_name=Mei&amp;family_name=Chen" in html
    assert "search all patients" in html


def test_a_one_letter_search_asks_for_more(receptionist: Any, patient: Any):
    response = list_page(receptionist, q="z")

    assert "enter at least 2 letters" in response.content.decode()
    assert response.context["rows"] == []


def test_archived_patients_are_listed_only_when_asked_for(receptionist: Any, patient: Any):
    archived = PatientFactory(given_name="Zoe", family_name="Archer", is_active=False)

    default = list_page(receptionist, q="zoe")
    archived_only = list_page(receptionist, q="zoe", status="archived")
    everyone = list_page(receptionist, q="zoe", status="all")

    assert [row[0] for row in default.context["rows"]] == [patient]
    assert [row[0] for row in archived_only.context["rows"]] == [archived]
    assert [row[0] for row in everyone.context["rows"]] == [patient, archived]
    assert "Archived</span>" in everyone.content.decode()


def test_an_unknown_status_filter_falls_back_to_active_patients(receptionist: Any, patient: Any):
    response = list_page(receptionist, status="deleted")

    assert response.status_code == 200
    assert [row[0] for row in response.context["rows"]] == [patient]


def test_the_list_shows_the_suitability_badge_and_reassessment_due(receptionist: Any):
    today = clock.today()
    PatientFactory(
        family_name="Recent",
        suitability="not_suitable",
        suitability_summary="Not suitable: rosacea",
        assessed_on=today - dt.timedelta(days=10),
    )
    PatientFactory(
        family_name="Old",
        suitability="suitable",
        suitability_summary="Suitable",
        assessed_on=today - dt.timedelta(days=200),
    )

    html = list_page(receptionist).content.decode()

    assert 'class="badge badge-not_suitable"' in html
    assert "rosacea" not in html  # the outcome for the desk, never the medical reason
    assert html.count('data-testid="reassessment-due"') == 1


def count_queries(client: Client, url: str, **params: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


def test_a_search_costs_one_query_more_than_the_home_page_however_many_rows(
    receptionist: Any,
):
    client = signed_in(receptionist)
    # The sign-out page reads nothing of its own: its cost is the session and permissions.
    count_queries(client, reverse("logout"))  # warm the session and permission caches
    baseline = count_queries(client, reverse("logout"))
    PatientFactory.create_batch(3, family_name="Example")
    few = count_queries(client, reverse("clinic:patient_list"), q="example")
    PatientFactory.create_batch(40, family_name="Example")
    many = count_queries(client, reverse("clinic:patient_list"), q="example")
    later_page = count_queries(client, reverse("clinic:patient_list"), q="example", page=2)

    # One SELECT for the page and one row more: no COUNT, nothing per row.
    assert few == many == later_page == baseline + 1


def test_the_list_query_count_is_pinned(receptionist: Any, django_assert_num_queries: Any):
    PatientFactory.create_batch(30, family_name="Example")
    client = signed_in(receptionist)
    client.get(reverse("clinic:patient_list"))
    baseline = count_queries(client, reverse("logout"))  # the session and permissions only

    with django_assert_num_queries(baseline + 1):
        client.get(reverse("clinic:patient_list"), {"q": "example", "page": 2})
    with django_assert_num_queries(baseline + 2):  # browsing: the COUNT and the page
        client.get(reverse("clinic:patient_list"), {"page": 2})
    with django_assert_num_queries(baseline):  # too short to search
        client.get(reverse("clinic:patient_list"), {"q": "e"})


# --- Create and edit ----------------------------------------------------------------------------


def test_staff_register_a_patient_and_land_on_their_page(receptionist: Any):
    response = signed_in(receptionist).post(reverse("clinic:patient_create"), patient_form())

    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("clinic:patient_detail", args=[patient.pk])
    assert patient.phone == "+447700900777"
    assert " grace thompson " in patient.search_text
    follow = signed_in(receptionist).get(response["Location"])
    assert "Grace Thompson" in follow.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"given_name": ""}, "given_name", "This field is required."),
        ({"date_of_birth": ""}, "date_of_birth", "This field is required."),
        ({"email": "grace@"}, "email", "Enter an email address like name@example.com."),
        ({"phone": "0770 090"}, "phone", "is not a valid phone number"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "cannot be in the future"),
        ({"date_of_birth": "1850-01-01"}, "date_of_birth", "more than 120 years ago"),
        ({"date_of_birth": "14/02/85x"}, "date_of_birth", "Enter a valid date."),
        ({"email": "", "preferred_contact": "email"}, "email", "prefers email"),
    ],
    ids=[
        "given-name-required",
        "birth-date-required",
        "email-format",
        "phone-format",
        "born-in-the-future",
        "born-too-long-ago",
        "not-a-date",
        "email-needed-for-email-preference",
    ],
)
def test_bad_input_gets_a_clear_field_error_and_keeps_what_was_typed(
    receptionist: Any, changes: dict[str, Any], field: str, message: str
):
    response = signed_in(receptionist).post(
        reverse("clinic:patient_create"), patient_form(notes="Allergic to latex gloves", **changes)
    )

    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert "Allergic to latex gloves" in response.content.decode()
    assert Patient.objects.count() == 0


def test_a_possible_duplicate_is_shown_before_saving_with_a_link(receptionist: Any):
    existing = PatientFactory(
        given_name="Grâce", family_name="THOMPSON", date_of_birth=dt.date(1985, 2, 14)
    )

    response = signed_in(receptionist).post(
        reverse("clinic:patient_create"), patient_form(email="other@patients.example")
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "This may be a patient who is already registered" in html
    assert reverse("clinic:patient_detail", args=[existing.pk]) in html
    assert "same name and date of birth" in html
    assert 'name="save_anyway"' in html
    assert Patient.objects.count() == 1


def test_save_anyway_registers_a_second_patient_with_the_same_details(receptionist: Any):
    PatientFactory(email="grace@patients.example")

    response = signed_in(receptionist).post(
        reverse("clinic:patient_create"), patient_form(save_anyway="1")
    )

    assert response.status_code == 302
    assert Patient.objects.filter(email="grace@patients.example").count() == 2


def test_a_new_patient_form_can_be_prefilled_from_a_search(receptionist: Any):
    response = signed_in(receptionist).get(
        reverse("clinic:patient_create"), {"given_name": "Mei", "family_name": "Chen"}
    )

    assert response.context["form"].initial == {"given_name": "Mei", "family_name": "Chen"}


def test_editing_saves_the_changes_and_the_search_follows(receptionist: Any, patient: Any):
    response = signed_in(receptionist).post(
        reverse("clinic:patient_update", args=[patient.pk]),
        patient_form(given_name="Zoë", family_name="Adeyemi-Brown", email="zoe@patients.example"),
    )

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.family_name == "Adeyemi-Brown"
    assert "adeyemibrown" in patient.search_text


def test_editing_a_patient_does_not_flag_them_as_their_own_duplicate(
    receptionist: Any, patient: Any
):
    form = patient_form(
        given_name=patient.given_name,
        family_name=patient.family_name,
        date_of_birth=patient.date_of_birth.isoformat(),
        email=patient.email,
    )

    response = signed_in(receptionist).post(
        reverse("clinic:patient_update", args=[patient.pk]), form
    )

    assert response.status_code == 302


def test_editing_into_another_patients_email_warns_first(receptionist: Any, patient: Any):
    other = PatientFactory(email="taken@patients.example")

    response = signed_in(receptionist).post(
        reverse("clinic:patient_update", args=[patient.pk]),
        patient_form(email="TAKEN@patients.example"),
    )

    assert response.status_code == 200
    assert [duplicate.patient for duplicate in response.context["duplicates"]] == [other]
    patient.refresh_from_db()
    assert patient.email == "zoe@patients.example"


def test_the_edit_form_shows_the_phone_as_stored(receptionist: Any, patient: Any):
    response = signed_in(receptionist).get(reverse("clinic:patient_update", args=[patient.pk]))

    assert response.context["form"].initial["phone"] == patient.phone


# --- Archiving ---------------------------------------------------------------------------------


def test_archiving_asks_first_then_hides_the_patient_from_the_list(receptionist: Any, patient: Any):
    client = signed_in(receptionist)
    url = reverse("clinic:patient_archive", args=[patient.pk])

    confirm = client.get(url)
    assert "Archive Zoë Adeyemi?" in confirm.content.decode()
    patient.refresh_from_db()
    assert patient.is_active

    response = client.post(url, follow=True)
    patient.refresh_from_db()
    assert not patient.is_active
    assert "is archived" in response.content.decode()
    assert 'data-testid="archived-banner"' in response.content.decode()
    assert list_page(receptionist, q="zoe").context["rows"] == []


def test_unarchiving_brings_the_patient_back(receptionist: Any, patient: Any):
    patient.is_active = False
    patient.save()

    response = signed_in(receptionist).post(reverse("clinic:patient_unarchive", args=[patient.pk]))

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.is_active


def test_archiving_an_archived_patient_changes_nothing(receptionist: Any, patient: Any):
    patient.is_active = False
    patient.save()

    response = signed_in(receptionist).get(reverse("clinic:patient_archive", args=[patient.pk]))

    assert response.status_code == 302
    patient.refresh_from_db()
    assert not patient.is_active


def test_an_erased_patient_can_be_neither_edited_nor_unarchived(receptionist: Any, patient: Any):
    Patient.objects.filter(pk=patient.pk).update(
        erased_at=timezone.now(), is_active=False, given_name="Erased patient"
    )
    client = signed_in(receptionist)

    edit = client.post(
        reverse("clinic:patient_update", args=[patient.pk]), patient_form(), follow=True
    )
    unarchive = client.post(reverse("clinic:patient_unarchive", args=[patient.pk]), follow=True)

    assert "personal details were erased" in edit.content.decode()
    assert "personal details were erased" in unarchive.content.decode()
    assert 'data-testid="erased-banner"' in edit.content.decode()
    patient.refresh_from_db()
    assert (patient.given_name, patient.is_active) == ("Erased patient", False)
