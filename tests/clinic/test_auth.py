"""Staff sign in through the real form; each role sees its own pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.roles import GROUP_NAMES, ROLE_PERMISSIONS, Role
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", list(Role))
def test_each_role_signs_in_and_out_through_the_form(client: Any, role: Role):
    UserFactory(username=f"user-{role}", role=role)

    response = client.post(
        "/accounts/login/", {"username": f"user-{role}", "password": TEST_PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert response.context["user"].is_authenticated
    assert role.label in response.content.decode()

    response = client.post("/accounts/logout/", follow=True)
    assert not response.context["user"].is_authenticated
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_with_a_message(client: Any, receptionist: Any):
    response = client.post("/accounts/login/", {"username": "rosa", "password": "nope-nope-nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client: Any):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_user_without_a_role_is_refused(client: Any):
    UserFactory(username="norole")
    client.login(username="norole", password=TEST_PASSWORD)
    response = client.get("/")
    assert response.status_code == 403
    assert "You don't have access to this page" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "sees_staff_link"),
    [(Role.RECEPTIONIST, False), (Role.PRACTITIONER, False), (Role.MANAGER, True)],
)
def test_navigation_shows_each_role_what_it_may_use(client: Any, role: Role, sees_staff_link):
    user = UserFactory(username=f"nav-{role}", role=role)
    client.force_login(user)
    html = client.get("/").content.decode()
    assert ('href="/staff/"' in html) is sees_staff_link
    assert ('href="/admin/"' in html) is sees_staff_link


def test_manager_sees_the_staff_page(client: Any, manager: Any, receptionist: Any):
    client.force_login(manager)
    response = client.get("/staff/")
    assert response.status_code == 200
    assert "rosa" in response.content.decode()


@pytest.mark.parametrize("fixture", ["receptionist", "practitioner_user"])
def test_other_roles_get_403_on_the_staff_page(client: Any, request: Any, fixture: str):
    client.force_login(request.getfixturevalue(fixture))
    response = client.get("/staff/")
    assert response.status_code == 403


def test_admin_is_for_managers_only(client: Any, manager: Any, receptionist: Any):
    client.force_login(manager)
    assert client.get("/admin/").status_code == 200
    client.force_login(receptionist)
    assert client.get("/admin/").status_code == 302  # to the admin's own sign-in


def test_roles_are_groups_with_their_permissions():
    for role in Role:
        group = Group.objects.get(name=GROUP_NAMES[role])
        codenames = set(group.permissions.values_list("content_type__app_label", "codename"))
        assert codenames, f"{role} has no permissions"
        for pattern in ROLE_PERMISSIONS[role]:
            app_label, codename = pattern.split(".")
            if codename != "*":
                assert (app_label, codename) in codenames
    receptionist = Group.objects.get(name=GROUP_NAMES[Role.RECEPTIONIST])
    assert not receptionist.permissions.filter(codename="view_clinical_record").exists()


def test_password_change_page_works(client: Any, receptionist: Any):
    client.force_login(receptionist)
    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "a long new passphrase",
            "new_password2": "a long new passphrase",
        },
    )
    assert response.status_code == 302
    receptionist.refresh_from_db()
    assert receptionist.check_password("a long new passphrase")


def test_password_change_refuses_short_passwords(client: Any, receptionist: Any):
    client.force_login(receptionist)
    response = client.post(
        "/accounts/password/change/",
        {"old_password": TEST_PASSWORD, "new_password1": "short1", "new_password2": "short1"},
    )
    assert response.status_code == 200
    assert "at least 10 characters" in response.content.decode()


def test_password_reset_sends_a_link_that_sets_a_new_password(client: Any, receptionist: Any):
    response = client.post("/accounts/password/reset/", {"email": receptionist.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line)
    path = link.split("testserver", 1)[1]
    response = client.get(path, follow=True)
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "another long passphrase", "new_password2": "another long passphrase"},
    )
    assert response.status_code == 302
    receptionist.refresh_from_db()
    assert receptionist.check_password("another long passphrase")


def test_unknown_pages_get_the_friendly_404(client: Any, receptionist: Any):
    client.force_login(receptionist)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_patients_are_view_only_in_the_admin(client: Any, manager: Any, patient: Any):
    client.force_login(manager)
    assert client.get(f"/admin/clinic/patient/{patient.pk}/change/").status_code == 200
    assert client.get("/admin/clinic/patient/add/").status_code == 403
    response = client.post(f"/admin/clinic/patient/{patient.pk}/change/", {"given_name": "Changed"})
    assert response.status_code == 403
    patient.refresh_from_db()
    assert patient.given_name == "Zoë"


def test_a_signed_in_users_roles_come_with_the_user_in_one_query(client: Any):
    """The session, then the user with one EXISTS per role: no separate read of the groups."""
    user = UserFactory(username="both", role=Role.PRACTITIONER)
    user.groups.add(Group.objects.get(name=GROUP_NAMES[Role.MANAGER]))
    client.force_login(user)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")

    assert response.status_code == 200
    assert response.context["user"]._clinic_roles == {Role.PRACTITIONER, Role.MANAGER}
    group_reads = [query["sql"] for query in queries if "auth_user_groups" in query["sql"]]
    assert len(group_reads) == 1
    assert "EXISTS" in group_reads[0].upper()


def test_a_role_taken_away_takes_effect_on_the_next_request(client: Any):
    user = UserFactory(username="moved", role=Role.MANAGER)
    client.force_login(user)
    assert client.get("/staff/").status_code == 200

    user.groups.clear()
    user.groups.add(Group.objects.get(name=GROUP_NAMES[Role.RECEPTIONIST]))

    assert client.get("/staff/").status_code == 403


def test_a_deactivated_user_is_signed_out_on_the_next_request(client: Any):
    user = UserFactory(username="leaver", role=Role.RECEPTIONIST)
    client.force_login(user)
    assert client.get("/").status_code == 200

    type(user).objects.filter(pk=user.pk).update(is_active=False)

    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
