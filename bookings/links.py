"""Patient self-service links: signed, expiring tokens bound to one thing and one purpose.

A token is ``django.core.signing.dumps({"id": ..., "p": purpose, "v": version})`` under a salt
per purpose, so a cancel token cannot be replayed as a confirm token and an id cannot be
changed without breaking the signature. ``version`` ties a link to the state it was sent
for: an appointment link names the start time it was about (a moved appointment makes the
old links out of date), a series link the last session it followed.

Reading a token: a bad signature is :class:`LinkInvalid` (the page answers 404 and shows
nothing); a good signature that is too old is :class:`LinkExpired` (the page explains).
No login is involved: the token is the patient's key to this one appointment or series.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT_PREFIX = "clinic.selfservice"
UNSUBSCRIBE_MAX_AGE = dt.timedelta(days=400)


class Purpose(StrEnum):
    CONFIRM = "confirm"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    PICK = "pick"
    REBOOK = "rebook"  # a new time for an appointment the clinic cancelled
    UNSUBSCRIBE = "unsubscribe"


APPOINTMENT_PURPOSES = (Purpose.CONFIRM, Purpose.CANCEL, Purpose.RESCHEDULE)


class LinkInvalid(Exception):
    """Not a token we signed for this purpose (tampered, truncated, made up)."""


class LinkExpired(Exception):
    """A token we signed, but longer ago than links stay valid."""


@dataclass(frozen=True)
class LinkPayload:
    purpose: Purpose
    subject_id: int
    version: str


def max_age_for(purpose: Purpose) -> dt.timedelta:
    if purpose == Purpose.UNSUBSCRIBE:
        # Unsubscribing must keep working long after the email was sent.
        return UNSUBSCRIBE_MAX_AGE
    return dt.timedelta(days=settings.SELF_SERVICE_LINK_MAX_AGE_DAYS)


def make_token(*, purpose: Purpose, subject_id: int, version: str) -> str:
    payload = {"id": subject_id, "p": str(purpose), "v": version}
    return signing.dumps(payload, salt=f"{SALT_PREFIX}.{purpose}", compress=True)


def read_token(token: str, *, purpose: Purpose) -> LinkPayload:
    salt = f"{SALT_PREFIX}.{purpose}"
    try:
        payload: Any = signing.loads(token, salt=salt, max_age=max_age_for(purpose))
    except signing.SignatureExpired:
        raise LinkExpired from None
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        raise LinkInvalid from None
    if (
        not isinstance(payload, dict)
        or payload.get("p") != str(purpose)
        or not isinstance(payload.get("id"), int)
        or not isinstance(payload.get("v"), str)
    ):
        raise LinkInvalid
    return LinkPayload(purpose=purpose, subject_id=payload["id"], version=payload["v"])


# -- versions: what state a link was sent for ------------------------------------------------


def appointment_version(starts_at: dt.datetime) -> str:
    """Links for an appointment are about its start time; moving it retires them."""
    return str(int(starts_at.timestamp()))


def series_version(last_session_on: dt.date | None) -> str:
    return last_session_on.isoformat() if last_session_on else "none"


# -- absolute links for emails ---------------------------------------------------------------


def absolute_url(path: str) -> str:
    return urljoin(settings.CLINIC_BASE_URL.rstrip("/") + "/", path.lstrip("/"))


def appointment_link(*, purpose: Purpose, appointment_id: int, starts_at: dt.datetime) -> str:
    if purpose not in APPOINTMENT_PURPOSES:
        raise ValueError(f"{purpose} is not an appointment link")
    token = make_token(
        purpose=purpose, subject_id=appointment_id, version=appointment_version(starts_at)
    )
    return absolute_url(reverse(f"selfservice:{purpose}", args=[token]))


def pick_link(*, series_id: int, last_session_on: dt.date | None) -> str:
    token = make_token(
        purpose=Purpose.PICK, subject_id=series_id, version=series_version(last_session_on)
    )
    return absolute_url(reverse("selfservice:pick", args=[token]))


def rebook_link(*, appointment_id: int, starts_at: dt.datetime) -> str:
    """For an appointment the clinic cancelled: pick a new time for the same treatment."""
    token = make_token(
        purpose=Purpose.REBOOK, subject_id=appointment_id, version=appointment_version(starts_at)
    )
    return absolute_url(reverse("selfservice:rebook", args=[token]))


def unsubscribe_link(*, patient_id: int) -> str:
    token = make_token(purpose=Purpose.UNSUBSCRIBE, subject_id=patient_id, version="1")
    return absolute_url(reverse("selfservice:unsubscribe", args=[token]))
