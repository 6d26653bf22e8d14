"""Personas every test can use, so tests read like stories."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from clinic.roles import Role
from tests.factories import PatientFactory, PractitionerFactory, UserFactory


def pytest_report_header(config: pytest.Config) -> str:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"clinic database: {engine} ({'PostgreSQL' if engine == 'postgresql' else 'SQLite'})"


@pytest.fixture
def receptionist(db: Any) -> Any:
    return UserFactory(
        username="rosa", first_name="Rosa", last_name="Bennett", role=Role.RECEPTIONIST
    )


@pytest.fixture
def practitioner_user(db: Any) -> Any:
    return UserFactory(
        username="amara", first_name="Amara", last_name="Okafor", role=Role.PRACTITIONER
    )


@pytest.fixture
def practitioner(practitioner_user: Any) -> Any:
    return PractitionerFactory(display_name="Amara Okafor", user=practitioner_user)


@pytest.fixture
def second_practitioner(db: Any) -> Any:
    user = UserFactory(
        username="jonas", first_name="Jonas", last_name="Lindqvist", role=Role.PRACTITIONER
    )
    return PractitionerFactory(display_name="Jonas Lindqvist", user=user)


@pytest.fixture
def manager(db: Any) -> Any:
    return UserFactory(
        username="malcolm",
        first_name="Malcolm",
        last_name="Reyes",
        role=Role.MANAGER,
        is_staff=True,
    )


@pytest.fixture
def patient(db: Any) -> Any:
    return PatientFactory(given_name="Zoë", family_name="Adeyemi", email="zoe@patients.example")


@pytest.fixture
def opted_out_patient(db: Any) -> Any:
    return PatientFactory(
        given_name="Liam",
        family_name="Walsh",
        email="liam@patients.example",
        email_reminders=False,
        followup_opt_out=True,
    )


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"
