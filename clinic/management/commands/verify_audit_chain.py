"""``manage.py verify_audit_chain``: recompute the audit hash chain from the first entry.

Seals pending view entries into the chain first (``clinic.audit.seal_pending``), then
prints ``OK: N entries verified`` and exits 0, or names the first broken entry and exits 1.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from clinic.audit import seal_pending, verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and report the first broken entry."

    def handle(self, *args: Any, **options: Any) -> None:
        sealed = seal_pending()
        if sealed:
            self.stdout.write(f"Sealed {sealed} pending view entries into the chain.")
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"BROKEN at audit entry seq {report.broken_seq} (id {report.broken_id}): "
                f"{report.reason}. {report.count} entries before it verified."
            )
        self.stdout.write(self.style.SUCCESS(f"OK: {report.count} audit entries verified."))
