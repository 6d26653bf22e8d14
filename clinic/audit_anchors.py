"""Anchors for the audit chain: its head (seq and hash) recorded outside the database.

The hash chain (``clinic.audit``) shows that no entry inside the chain was edited, removed
or slipped in without every later hash changing. On its own it cannot show that the newest
entries were cut off, that every entry was removed, or that someone with write access to
the database recomputed the whole chain: a shorter or rewritten chain is still a valid one.

An anchor is the chain's head at a moment: ``{"seq": N, "hash": ..., "at": ...}``, appended
as one JSON line to ``AUDIT_ANCHOR_DIR/anchors.jsonl`` (``var/audit-anchors/`` by default)
and written to the log, by a beat task and by ``verify_audit_chain``. Every anchor must
still match the chain: an entry with that seq, carrying that hash. A missing entry means
the trail was cut back; a different hash means it was rewritten. Only sealed entries are
anchored (view entries join the chain later, see ``audit.seal_pending``).

What is left: entries written after the last anchor can be cut without a trace, and someone
who can rewrite both the database and the anchor file (and the logs) can rewrite history.
Keep a copy of the file, or the log lines, where the database's users cannot write.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from clinic.models import AuditEntry

logger = logging.getLogger("clinic.audit")

ANCHOR_FILE = "anchors.jsonl"
# Entries looked up per query when anchors are checked.
LOOKUP_BATCH = 500


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: str


@dataclass(frozen=True)
class AnchorReport:
    ok: bool
    checked: int
    reason: str = ""


def anchor_path() -> Path:
    return Path(settings.AUDIT_ANCHOR_DIR) / ANCHOR_FILE


def _read_anchors() -> tuple[list[Anchor], str]:
    """The anchors in the order written, and a problem with the file if there is one."""
    path = anchor_path()
    if not path.exists():
        return [], ""
    anchors: list[Anchor] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values = json.loads(line)
            anchors.append(
                Anchor(seq=int(values["seq"]), hash=str(values["hash"]), at=values["at"])
            )
        except (ValueError, KeyError, TypeError):
            return anchors, f"line {number} of {path} is not an anchor"
    return anchors, ""


def _chain_head() -> tuple[int, str] | None:
    return (
        AuditEntry.objects.filter(seq__isnull=False)
        .order_by("-seq")
        .values_list("seq", "hash")
        .first()
    )


def record_anchor() -> Anchor | None:
    """Append the chain's current head to the anchor file (and the log) if it moved."""
    head = _chain_head()
    if head is None:
        return None
    anchors, _problem = _read_anchors()
    if anchors and (anchors[-1].seq, anchors[-1].hash) == head:
        return None
    anchor = Anchor(seq=head[0], hash=head[1], at=timezone.now().isoformat(timespec="seconds"))
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"seq": anchor.seq, "hash": anchor.hash, "at": anchor.at}) + "\n"
    with path.open("a", encoding="utf-8") as file:
        file.write(line)
        file.flush()
        os.fsync(file.fileno())
    logger.info("Audit chain anchor: seq %s hash %s at %s", anchor.seq, anchor.hash, anchor.at)
    return anchor


def check_anchors() -> AnchorReport:
    """Every anchor recorded so far must still be in the chain, with the same hash."""
    anchors, problem = _read_anchors()
    if problem:
        return AnchorReport(False, 0, problem)
    seqs = sorted({anchor.seq for anchor in anchors})
    stored: dict[int, str] = {}
    for first in range(0, len(seqs), LOOKUP_BATCH):
        batch = seqs[first : first + LOOKUP_BATCH]
        stored.update(AuditEntry.objects.filter(seq__in=batch).values_list("seq", "hash"))
    for checked, anchor in enumerate(anchors):
        if anchor.seq not in stored:
            head = _chain_head()
            return AnchorReport(
                False,
                checked,
                f"entry seq {anchor.seq}, anchored at {anchor.at}, is missing: the trail now "
                f"ends at seq {head[0] if head else 0} (entries were cut off or deleted)",
            )
        if stored[anchor.seq] != anchor.hash:
            return AnchorReport(
                False,
                checked,
                f"entry seq {anchor.seq} no longer has the hash anchored at {anchor.at} "
                "(the chain was rewritten)",
            )
    return AnchorReport(True, len(anchors))
