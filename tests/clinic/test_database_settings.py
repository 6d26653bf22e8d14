"""PostgreSQL connection settings that keep page queries fast (see README, Performance)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from clinic.env import Env


def test_postgres_connections_run_without_jit_compilation(tmp_path: Path):
    config = Env({"DATABASE_URL": "postgres://clinic@db.internal:5432/clinic"}).database(
        "DATABASE_URL", default_sqlite=tmp_path / "x.sqlite3"
    )
    assert config["OPTIONS"]["options"] == "-c jit=off"


def test_a_database_url_can_choose_its_own_server_options(tmp_path: Path):
    config = Env(
        {"DATABASE_URL": "postgres://clinic@db.internal:5432/clinic?options=-c%20jit%3Don"}
    ).database("DATABASE_URL", default_sqlite=tmp_path / "x.sqlite3")
    assert config["OPTIONS"]["options"] == "-c jit=on"


@pytest.mark.postgres_only  # SQLite has no JIT to switch off
def test_the_running_postgres_connection_has_jit_off(db: object):
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
