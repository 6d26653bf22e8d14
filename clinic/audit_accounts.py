"""Who may do what is itself in the audit trail: every change to staff accounts, their roles
(groups), their two-factor devices and API tokens, on whatever path it comes (the admin,
the staff pages, a service, a shell).

This is the one place where signals write: an account can change through Django's own
admin views and forms, which call no service of ours, and a privilege change nobody can
trace is the change that matters most. Each tracked model names the fields worth a line in
the trail; secrets (password hashes, device keys, token hashes) are recorded only as
"changed", never as values. Saves that touch none of the tracked fields (a sign-in's
``last_login``, a device's drift counters) record nothing. The one exception is
``migrate`` re-granting the role groups their permissions from the code (``unrecorded``).
Revoking an API token is a bulk update (no signal): its service records it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from clinic import audit
from clinic.models import AuditAction

CHANGED = "(changed)"
SET = "(set)"


@dataclass(frozen=True)
class Tracked:
    fields: tuple[str, ...]
    secret_fields: tuple[str, ...] = ()


_TRACKED: dict[type[models.Model], Tracked] = {}
_paused: ContextVar[bool] = ContextVar("audit_accounts_paused", default=False)


@contextmanager
def unrecorded() -> Iterator[None]:
    """For ``migrate`` only: the role groups' permissions follow the code (``clinic.roles``),
    and the code's history records those changes; the audit table may not exist yet."""
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)


def _values(instance: models.Model, tracked: Tracked) -> dict[str, Any]:
    values = audit.snapshot(instance, list(tracked.fields))
    for name in tracked.secret_fields:
        # Types: the secret fields tracked are concrete fields, which have an attname.
        values[name] = getattr(instance, instance._meta.get_field(name).attname)  # type: ignore[union-attr]
    return values


def _shown(values: dict[str, Any], tracked: Tracked, other: dict[str, Any]) -> dict[str, Any]:
    """Secrets never reach the trail: only that they changed (or were set)."""
    shown = {}
    for name, value in values.items():
        if name in tracked.secret_fields:
            if value != other.get(name):
                shown[name] = CHANGED if other else SET
            continue
        shown[name] = value
    return shown


def _before_save(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    tracked = _TRACKED[sender]
    update_fields = kwargs.get("update_fields")
    if _paused.get():
        instance._audit_before = None  # type: ignore[attr-defined]
        return
    watched = {*tracked.fields, *tracked.secret_fields}
    if kwargs.get("raw") or (update_fields is not None and not watched & set(update_fields)):
        instance._audit_before = None  # type: ignore[attr-defined]
        return
    stored = sender._default_manager.filter(pk=instance.pk).first() if instance.pk else None
    instance._audit_before = _values(stored, tracked) if stored else {}  # type: ignore[attr-defined]


def _after_save(
    sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any
) -> None:
    before = getattr(instance, "_audit_before", None)
    if before is None:
        return
    tracked = _TRACKED[sender]
    after = _values(instance, tracked)
    if created or not before:
        audit.record(action=AuditAction.CREATE, obj=instance, after=_shown(after, tracked, {}))
        return
    secrets_before = {name: before[name] for name in tracked.secret_fields}
    shown_after = _shown(after, tracked, secrets_before)
    shown_before = {
        name: ("" if name in tracked.secret_fields else value) for name, value in before.items()
    }
    for name in tracked.secret_fields:
        if name not in shown_after:
            shown_before.pop(name, None)
    audit.record(action=AuditAction.CHANGE, obj=instance, before=shown_before, after=shown_after)


def _after_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if _paused.get():
        return
    tracked = _TRACKED[sender]
    before = _shown(_values(instance, tracked), tracked, {})
    audit.record(action=AuditAction.DELETE, obj=instance, before=before)


def track(
    model: type[models.Model], *, fields: tuple[str, ...], secret_fields: tuple[str, ...] = ()
) -> None:
    """Record every create, change (of ``fields``/``secret_fields``) and delete of ``model``."""
    _TRACKED[model] = Tracked(fields=fields, secret_fields=tuple(secret_fields))
    uid = f"audit-accounts-{model._meta.label_lower}"
    pre_save.connect(_before_save, sender=model, dispatch_uid=f"{uid}-pre")
    post_save.connect(_after_save, sender=model, dispatch_uid=f"{uid}-post")
    post_delete.connect(_after_delete, sender=model, dispatch_uid=f"{uid}-delete")


def _names(related: type[models.Model], pks: Any) -> list[str]:
    return sorted(str(item) for item in related._default_manager.filter(pk__in=pks))


def _column_to(through: type[models.Model], model: type[models.Model]) -> str:
    return next(
        field.name
        for field in through._meta.concrete_fields
        # Types: a through table's relations point at concrete models.
        if field.is_relation and issubclass(model, field.related_model)  # type: ignore[arg-type]
    )


def _m2m_changed(
    sender: type[models.Model],
    instance: models.Model,
    action: str,
    model: type[models.Model],
    pk_set: set[Any] | None,
    **kwargs: Any,
) -> None:
    """A user's roles or permissions, or a role's permissions, gained or lost; recorded on
    the row the change was made from, by name ("groups: added Manager")."""
    if _paused.get():
        return
    if action == "pre_clear":
        mine, theirs = _column_to(sender, type(instance)), _column_to(sender, model)
        linked = sender._default_manager.filter(**{mine: instance.pk}).values(theirs)
        instance._audit_cleared = _names(model, linked)  # type: ignore[attr-defined]
        return
    if action == "post_clear":
        names, verb = getattr(instance, "_audit_cleared", []), "removed"
    elif action in ("post_add", "post_remove"):
        names = _names(model, pk_set or ())
        verb = "added" if action == "post_add" else "removed"
    else:
        return
    if names:
        label = str(model._meta.verbose_name_plural)
        audit.record(
            action=AuditAction.CHANGE,
            obj=instance,
            before={label: names} if verb == "removed" else None,
            after={label: names} if verb == "added" else None,
            detail=f"{label}: {verb} {', '.join(names)}",
        )


def track_relation(through: type[models.Model]) -> None:
    """Record additions to and removals from a many-to-many, from either side."""
    m2m_changed.connect(
        _m2m_changed, sender=through, dispatch_uid=f"audit-accounts-{through._meta.label_lower}"
    )


def connect() -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user_model = get_user_model()
    track(
        user_model,
        fields=(
            "username",
            "first_name",
            "last_name",
            "email",
            "is_active",
            "is_staff",
            "is_superuser",
        ),
        secret_fields=("password",),
    )
    track_relation(user_model.groups.through)
    track_relation(user_model.user_permissions.through)
    track(Group, fields=("name",))
    track_relation(Group.permissions.through)
    track(TOTPDevice, fields=("user", "name", "confirmed"), secret_fields=("key",))
