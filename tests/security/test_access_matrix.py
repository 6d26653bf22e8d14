"""Deny by default and the role matrix (clinic.access), checked against the running views.

Walks every URL the resolver knows, with dummy arguments (and real ids where a page needs
one to get past its 404), as anonymous, receptionist, practitioner and manager, by GET and
by POST. A role the table lists must not be refused; a role it does not list must be.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bookings.services.tokens import api_token_issue
from clinic.access import (
    ADMIN_NAMESPACE,
    ANONYMOUS,
    ANONYMOUS_ALLOWED,
    API_NAMESPACE,
    CSRF_EXEMPT,
    MATRIX,
    M,
    P,
    access_for,
)
from clinic.roles import Role
from tests.factories import PractitionerFactory, UserFactory
from tests.security.urlwalk import Route, concrete_path, routes

pytestmark = pytest.mark.django_db

LOGIN_PREFIXES = ("/accounts/login/", "/admin/login/")
# Tables a GET may write to: the audit trail of views, sessions, an API token's last-used
# stamp, and the booking settings singleton, whose row of defaults is created the first time
# anything reads it.
GET_WRITABLE_TABLES = (
    "clinic_auditentry",
    "clinic_auditchainlock",
    "django_session",
    "bookings_apitoken",
    "bookings_bookingsettings",
)
# Where a redirect to the sign-in page is the page working, not a refusal.
SIGN_IN_IS_SUCCESS = {"logout"}
WRITE_SQL = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?", re.IGNORECASE)


def _all_routes() -> list[Route]:
    """Named routes the table covers (the completeness test reports any it lacks)."""
    return [route for route in routes() if route.name and access_for(route.name) is not None]


def _is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN_PREFIXES)


def _refused(response: Any, *, anonymous: bool) -> bool:
    if response.status_code in {401, 403, 405}:
        return True
    if anonymous or response.status_code == 302:
        return _is_login_redirect(response)
    return False


def test_every_url_has_a_row_in_the_access_table():
    missing = sorted(
        {route.name for route in routes() if route.name and not access_for(route.name)}
    )
    assert missing == [], f"Add these URL names to clinic.access.MATRIX: {missing}"
    unnamed = [route.template for route in routes() if not route.name]
    assert all(template.startswith(f"{ADMIN_NAMESPACE}/") for template in unnamed), unnamed


def test_the_table_names_no_url_that_does_not_exist():
    known = {route.name for route in routes()}
    assert sorted(set(MATRIX) - known) == []


def test_anonymous_visitors_are_refused_everywhere_but_the_allowlist(client: Client):
    problems = []
    for route in _all_routes():
        path = concrete_path(route)
        assert path is not None, f"cannot build a path for {route.name} ({route.template})"
        access = access_for(route.name)
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            allowed = ANONYMOUS in (access.get if method == "get" else access.post)
            if response.status_code >= 500:
                problems.append(f"{method.upper()} {path}: server error")
            elif allowed and _is_login_redirect(response):
                problems.append(f"{method.upper()} {path}: allowlisted but sent to sign in")
            elif not allowed and not _refused(response, anonymous=True):
                problems.append(
                    f"{method.upper()} {path}: open to anonymous ({response.status_code})"
                )
    assert problems == [], "\n".join(problems)
    assert {"login", "password_reset", "healthz"} <= ANONYMOUS_ALLOWED


@pytest.fixture
def real_ids(patient: Any, practitioner: Any) -> dict[str, dict[str, object]]:
    """Arguments that reach a real row, so allowed roles see the page rather than a 404."""
    from tests.builders import treatment_type

    common = {
        "patient_id": patient.pk,
        "patient_pk": patient.pk,
        "practitioner_id": practitioner.pk,
        "treatment_type_id": treatment_type().pk,
    }
    patient_pages = {
        f"clinic:{name}": {"pk": patient.pk}
        for name in ("patient_detail", "patient_update", "patient_archive", "patient_unarchive")
    }
    return {"*": common, **patient_pages}


def _writes(queries: list[dict[str, str]]) -> list[str]:
    tables = []
    for query in queries:
        match = WRITE_SQL.match(query["sql"])
        if match and not match.group(2).startswith(GET_WRITABLE_TABLES):
            tables.append(match.group(2))
    return tables


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_exactly_the_pages_the_table_gives_it(
    role: Role, real_ids: dict[str, dict[str, object]]
):
    user = UserFactory(username=f"matrix-{role}", role=role, is_staff=role == Role.MANAGER)
    if role != Role.RECEPTIONIST:
        PractitionerFactory(user=user, display_name=f"Matrix {role.label}")
    client = Client()
    client.force_login(user)
    _, token = api_token_issue(username=user.username, name="matrix")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    problems = []
    # Signing out ends the session the walk runs on, so it comes last.
    for route in sorted(_all_routes(), key=lambda route: route.name == "logout"):
        if route.name.startswith(f"{ADMIN_NAMESPACE}:") and route.name not in {
            "admin:index",
            "admin:clinic_practitioner_changelist",
            "admin:clinic_practitioner_change",
        }:
            continue  # one rule for the whole admin: a sample of its pages is enough
        access = access_for(route.name)
        path = concrete_path(route, {**real_ids["*"], **real_ids.get(route.name, {})})
        for method in ("get", "post"):
            allowed = role.value in (access.get if method == "get" else access.post)
            extra = bearer if route.name.startswith(f"{API_NAMESPACE}:") else {}
            with CaptureQueriesContext(connection) as captured:
                response = getattr(client, method)(path, **extra)
            status = response.status_code
            if status >= 500:
                problems.append(f"{method.upper()} {path}: server error")
            elif (
                allowed
                and _refused(response, anonymous=False)
                and route.name not in SIGN_IN_IS_SUCCESS
            ):
                problems.append(f"{method.upper()} {path}: refused ({status}) but allowed")
            elif (
                not allowed
                and not _refused(response, anonymous=False)
                # A page the role may read may answer a stray POST like a GET, as long as
                # nothing is written (checked below); anything else must be refused.
                and not (method == "post" and role.value in access.get)
            ):
                problems.append(f"{method.upper()} {path}: open ({status}) but not allowed")
            if method == "get" and (written := _writes(captured.captured_queries)):
                problems.append(f"GET {path} wrote to {sorted(set(written))}")
            if not allowed and method == "post" and (written := _writes(captured.captured_queries)):
                problems.append(f"refused POST {path} wrote to {sorted(set(written))}")
    assert problems == [], "\n".join(problems)


def test_every_state_change_needs_the_csrf_token(manager: Any, practitioner_user: Any):
    """POST without the token is refused before any view runs (API: tokens, no cookies)."""
    clients = {ANONYMOUS: Client(enforce_csrf_checks=True)}
    for role, user in {
        Role.MANAGER.value: manager,
        Role.PRACTITIONER.value: practitioner_user,
    }.items():
        clients[role] = Client(enforce_csrf_checks=True)
        clients[role].force_login(user)
    problems = []
    for route in sorted(_all_routes(), key=lambda route: route.name == "logout"):
        access = access_for(route.name)
        if not access.post or route.name.startswith((f"{ADMIN_NAMESPACE}:", f"{API_NAMESPACE}:")):
            continue
        if route.name in CSRF_EXEMPT:
            continue
        poster = next(role for role in (M, P, ANONYMOUS) if role in access.post)
        path = concrete_path(route)
        response = clients[poster].post(path, {"anything": "x"})
        if response.status_code != 403 or b"CSRF" not in response.content:
            problems.append(f"POST {path} without CSRF token: {response.status_code}")
    assert problems == [], "\n".join(problems)


def test_the_api_ignores_the_session_cookie(client: Client, manager: Any):
    """No cookie authority means no CSRF exposure: a signed-in browser still gets 401."""
    client.force_login(manager)
    for route in _all_routes():
        if not route.name.startswith(f"{API_NAMESPACE}:"):
            continue
        access = access_for(route.name)
        if ANONYMOUS in access.get:
            continue
        path = concrete_path(route)
        assert client.get(path).status_code in {401, 405}, path
        assert client.post(path, {}, content_type="application/json").status_code in {401, 405}
