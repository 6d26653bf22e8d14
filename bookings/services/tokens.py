"""API tokens: issued once in clear, stored as a SHA-256 hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from bookings.models import ApiToken
from bookings.rules import BookingError
from clinic import audit
from clinic.models import AuditAction
from clinic.roles import user_roles

TOKEN_PREFIX_LENGTH = 8
# Writing last_used_at on every request would turn each API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic(durable=True)
def api_token_issue(*, username: str, name: str = "") -> tuple[ApiToken, str]:
    """A new token for an active staff user with a role; returns the row and the token.

    The token itself is never stored: only its hash and first characters.
    """
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise BookingError(f"There is no user called {username!r}.")
    if not user.is_active:
        raise BookingError(f"{username} is deactivated: activate the account first.")
    if not user_roles(user):
        raise BookingError(
            f"{username} has no staff role (receptionist, practitioner or manager): "
            "an API token would be of no use."
        )
    token = secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=token[:TOKEN_PREFIX_LENGTH],
        token_hash=hash_token(token),
    )
    return row, token


@transaction.atomic
def api_token_revoke(*, token: ApiToken, now: datetime | None = None) -> ApiToken:
    """Revoke a token; revoking twice keeps the first time."""
    if token.revoked_at is None:
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now or timezone.now()
        )
        token.refresh_from_db()
        if revoked:
            # A bulk update sends no signal: the revocation is audited here.
            audit.record(
                action=AuditAction.CHANGE,
                obj=token,
                before={"revoked_at": None},
                after={"revoked_at": token.revoked_at},
            )
    return token


def api_token_authenticate(token: str, *, now: datetime | None = None) -> Any:
    """The user a bearer token belongs to, or ``None`` (unknown, revoked, inactive user)."""
    if not token:
        return None
    row = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True)
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    now = now or timezone.now()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user
