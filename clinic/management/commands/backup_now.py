"""``manage.py backup_now``: one backup into BACKUP_DIR, then rotation to BACKUP_KEEP.

``make backup`` (scripts/backup.sh) and the Celery beat schedule both run this. Prints the
new backup's folder; exits 1 with the reason when no backup could be made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinic import backups


class Command(BaseCommand):
    help = "Back up the database and stored files, then delete backups beyond BACKUP_KEEP."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", help="Backup folder (default: BACKUP_DIR).")
        parser.add_argument("--keep", type=int, help="Backups to keep (default: BACKUP_KEEP).")

    def handle(self, *args: Any, **options: Any) -> None:
        backup_dir = Path(options["dir"] or settings.BACKUP_DIR)
        keep = options["keep"] if options["keep"] is not None else settings.BACKUP_KEEP
        if keep < 1:
            raise CommandError("--keep must be at least 1.")
        try:
            folder = backups.backup_create(backup_dir=backup_dir)
        except backups.BackupError as error:
            raise CommandError(f"Backup failed: {error}") from None
        removed = backups.backup_rotate(backup_dir=backup_dir, keep=keep)
        self.stdout.write(self.style.SUCCESS(f"Backup written: {folder}"))
        if removed:
            self.stdout.write(f"Removed {len(removed)} older backup(s); {keep} kept.")
