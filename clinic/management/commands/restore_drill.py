"""``manage.py restore_drill [BACKUP]``: prove a backup restores, without touching live data.

Restores the newest backup in BACKUP_DIR (or the folder named) into a throwaway database,
compares each main table's row count with the backup's manifest and verifies the audit chain
there. Prints one line per check; exits 1 when any check fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinic import backups


class Command(BaseCommand):
    help = "Restore a backup into a throwaway database and check row counts and the audit chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", nargs="?", help="A backup folder (default: the newest).")
        parser.add_argument("--dir", help="Backup folder to look in (default: BACKUP_DIR).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["backup"]:
            backup = Path(options["backup"])
            if not backup.is_dir() and not Path(str(backup)).is_absolute():
                backup = Path(options["dir"] or settings.BACKUP_DIR) / backup
            if not backup.is_dir():
                raise CommandError(f"No backup folder {backup}.")
        else:
            found = backups.backups_in(Path(options["dir"] or settings.BACKUP_DIR))
            if not found:
                raise CommandError("No backups found: run `make backup` first.")
            backup = found[-1]
        self.stdout.write(f"Restore drill of {backup}")
        report = backups.restore_drill(backup=backup)
        for line in report.lines:
            self.stdout.write(f"  {line}")
        if not report.ok:
            raise CommandError("Restore drill FAILED: this backup does not restore as recorded.")
        self.stdout.write(self.style.SUCCESS("Restore drill passed."))
