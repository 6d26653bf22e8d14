"""``manage.py inspect_restored_copy``: the restore drill's eyes inside the throwaway copy.

``restore_drill`` runs this in a child process whose DATABASE_URL points at the restored
copy, so the row counts and ``clinic.audit.verify_chain`` run against that database with the
app's own code and never against the live one. Prints one JSON object; writes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection

from clinic import backups
from clinic.audit import verify_chain


class Command(BaseCommand):
    help = "Internal to restore_drill: row counts and audit chain of this database, as JSON."

    def handle(self, *args: Any, **options: Any) -> None:
        with connection.cursor() as cursor:
            counts = backups.count_rows(cursor, backups.main_tables())
        chain = verify_chain()
        self.stdout.write(
            json.dumps(
                {
                    "row_counts": counts,
                    "chain": {
                        "ok": chain.ok,
                        "count": chain.count,
                        "broken_seq": chain.broken_seq,
                        "broken_id": chain.broken_id,
                        "reason": chain.reason,
                    },
                }
            )
        )
