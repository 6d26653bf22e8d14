"""``manage.py verify_audit_chain``: recompute the audit hash chain from the first entry.

Seals pending view entries into the chain first (``clinic.audit.seal_pending``), recomputes
the chain, then checks it against every anchor recorded outside the database
(``clinic.audit_anchors``), so a trail cut back or rewritten whole is reported too. Prints
``OK: N entries verified`` and records the head as a new anchor, exits 0; or names the first
broken entry or anchor and exits 1.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from clinic.audit import seal_pending, verify_chain
from clinic.audit_anchors import check_anchors, record_anchor


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
        anchors = check_anchors()
        if not anchors.ok:
            raise CommandError(
                f"BROKEN against the anchors: {anchors.reason}. "
                f"{anchors.checked} earlier anchors matched."
            )
        record_anchor()
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: {report.count} audit entries verified; {anchors.checked} anchors match."
            )
        )
