"""Personas every test can use, so tests read like stories; which tests run on which database."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from clinic.roles import Role
from tests.factories import PatientFactory, PractitionerFactory, UserFactory

# Fixtures that give a test the database (pytest-django's, and live_server which serves it).
DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "live_server",
    }
)


def _database_engine() -> str:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]


def pytest_report_header(config: pytest.Config) -> str:
    engine = _database_engine()
    only = " (only tests that use it)" if os.environ.get("CLINIC_DB_TESTS_ONLY") == "1" else ""
    name = "PostgreSQL" if engine == "postgresql" else "SQLite"
    return f"clinic database: {engine} ({name}){only}"


def uses_database(item: pytest.Item) -> bool:
    """A test that can reach the database: marked ``django_db`` or asking (directly or through
    its fixtures) for one of pytest-django's database fixtures. Any other test is blocked from
    the database by pytest-django, so its outcome cannot depend on which one it is."""
    if item.get_closest_marker("django_db") is not None:
        return True
    return bool(DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (not skip) the tests that have nothing to check on this run's database:

    - ``postgres_only`` tests on SQLite (they check what only PostgreSQL has);
    - with ``CLINIC_DB_TESTS_ONLY=1`` (scripts/test.sh's second pass, on PostgreSQL), every
      test that does not use the database: the first pass already ran them and they cannot
      behave differently on another database.
    """
    on_sqlite = _database_engine() != "postgresql"
    database_tests_only = os.environ.get("CLINIC_DB_TESTS_ONLY") == "1"
    kept: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        if (on_sqlite and item.get_closest_marker("postgres_only") is not None) or (
            database_tests_only and not uses_database(item)
        ):
            deselected.append(item)
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(autouse=True)
def _audit_anchors_per_test(settings: Any, tmp_path: Path) -> None:
    """Each test's audit trail starts empty, so its chain anchors do too (never var/)."""
    settings.AUDIT_ANCHOR_DIR = tmp_path / "audit-anchors"


@pytest.fixture(autouse=True)
def _empty_caches() -> None:
    """In-process caches (drawn calendars) start empty in every test: each test's database
    starts from the same schedule version, so a grid from another test must not be met."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


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


def _reinstall_default_catalogue(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """Browser journeys (transactional tests) end with a flush, which empties the rows the
    data migrations installed; Django then sends post_migrate, so the default treatment
    catalogue is put back for the tests that run after them in the same worker."""
    from treatments.catalogue import DEFAULT_TREATMENT_TYPES
    from treatments.models import TreatmentType

    for entry in DEFAULT_TREATMENT_TYPES:
        TreatmentType.objects.using(using).get_or_create(name=entry["name"], defaults=entry)


def _flush_past_the_delete_guards() -> None:
    """Transactional tests end with a flush. On PostgreSQL it is a TRUNCATE, which row triggers
    do not see; on SQLite it is a DELETE per table, which the triggers refusing deletes of
    signed records and amendments (treatments.guards) would stop. The test flush lifts those
    triggers for its DELETEs and puts them back in the same transaction."""
    from django.db.backends.sqlite3.base import DatabaseWrapper

    DatabaseOperations = DatabaseWrapper.ops_class

    from treatments import guards

    plain_flush = DatabaseOperations.sql_flush

    def sql_flush(self: Any, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        statements = plain_flush(self, style, tables, **kwargs)
        if not statements:
            return statements
        lifted = [name for name in guards.DELETE_GUARDS if guards.GUARDS[name].table in tables]
        drops = [f"DROP TRIGGER IF EXISTS {name}" for name in lifted]
        restores = [
            statement
            for name in lifted
            for statement in guards.sqlite_statements(name, guards.GUARDS[name])
        ]
        return [*drops, *statements, *restores]

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]


def pytest_configure(config: pytest.Config) -> None:
    from django.apps import apps
    from django.db.models.signals import post_migrate

    _flush_past_the_delete_guards()

    post_migrate.connect(
        _reinstall_default_catalogue,
        sender=apps.get_app_config("treatments"),
        dispatch_uid="tests-reinstall-default-catalogue",
    )
