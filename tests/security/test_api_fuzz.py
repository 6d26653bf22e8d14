"""schemathesis against the API's own /api/openapi.json: no input gives a server error.

Generated cases (valid and invalid per the schema) go through the WSGI application in
process, authenticated as a manager so every operation's body is reached; each answer must
be below 500. Runs inside ``make test`` on both databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from bookings.services.tokens import api_token_issue
from clinic.roles import Role
from tests.builders import crystal_with_room, open_clinic_business_hours, working_week
from tests.factories import PatientFactory, PractitionerFactory, UserFactory


@pytest.fixture
def api_schema(db: Any) -> Iterator[Any]:
    """The schema, loaded and called through the real WSGI application.

    As Django's test client does, keep the test's database connection open across
    requests (the handler would close it when each request finishes).
    """
    from clinic.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        loaded = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
        # Valid input and deliberately invalid (hostile) input alike.
        loaded.config.generation.update(
            modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
        )
        yield loaded
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def manager_token(db: Any) -> str:
    user = UserFactory(username="fuzz-manager", role=Role.MANAGER)
    practitioner = PractitionerFactory(user=user, display_name="Fuzz Practitioner")
    open_clinic_business_hours()
    working_week(practitioner)
    crystal_with_room()
    PatientFactory(given_name="Fuzz", family_name="Patient")
    return api_token_issue(username=user.username, name="fuzz")[1]


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
def test_the_api_never_answers_with_a_server_error(case: Any, manager_token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {manager_token}"}, checks=[not_a_server_error]
    )
