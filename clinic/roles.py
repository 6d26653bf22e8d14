"""Staff roles: receptionist, practitioner, manager.

A role is a Django group. ``ROLE_PERMISSIONS`` is the one table of which model
permissions each group holds (the admin uses them); pages check roles through
``RoleRequiredMixin`` / ``role_required`` at the top of each view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import models
from django.db.models import Exists, OuterRef


class Role(models.TextChoices):
    RECEPTIONIST = "receptionist", "Receptionist"
    PRACTITIONER = "practitioner", "Practitioner"
    MANAGER = "manager", "Manager"


GROUP_NAMES: dict[str, str] = {role.value: role.label for role in Role}

# "app_label.codename" or "app_label.*" for every permission of an app.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.RECEPTIONIST: (
        "clinic.view_patient",
        "clinic.add_patient",
        "clinic.change_patient",
        "clinic.view_practitioner",
        "clinic.view_room",
        "clinic.view_outboundmessage",
        "treatments.view_treatmenttype",
        "treatments.view_treatmentseries",
        "bookings.*",
    ),
    Role.PRACTITIONER: (
        "clinic.view_patient",
        "clinic.add_patient",
        "clinic.change_patient",
        "clinic.view_practitioner",
        "clinic.view_room",
        "clinic.view_outboundmessage",
        "clinic.view_clinical_record",
        "treatments.*",
        "bookings.*",
    ),
    Role.MANAGER: (
        "clinic.*",
        "treatments.*",
        "bookings.*",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
    ),
}

CLINICAL_ROLES = (Role.PRACTITIONER, Role.MANAGER)
# Who answers a patient's GDPR requests (the export and the erasure of their identity).
PRIVACY_ROLES = (Role.MANAGER,)
ALL_ROLES = tuple(Role)


def user_roles(user: Any) -> frozenset[str]:
    """The roles a signed-in user holds (cached on the user object per request)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_clinic_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(role for role, name in GROUP_NAMES.items() if name in names)
        user._clinic_roles = cached
    return cached


def _role_flag(role: str) -> str:
    return f"_clinic_has_{role}"


class RoleLoadingBackend(ModelBackend):
    """Django's model backend, loading the user's roles with the user (one query).

    Every page checks a role; reading the groups separately cost every signed-in request a
    second query. The roles come in the same query as the user, as one ``EXISTS`` per role,
    and are cached on the user object for the request, where :func:`user_roles` finds them.
    The query is compiled by the ORM once per process (compiling it took longer than
    running it) and run with ``raw()``.
    """

    _compiled: tuple[str, tuple[Any, ...]] | None = None

    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        try:
            user_id = user_model._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        if RoleLoadingBackend._compiled is None:
            RoleLoadingBackend._compiled = self._compile()
        sql, params = RoleLoadingBackend._compiled
        user = next(iter(user_model._default_manager.raw(sql, [*params, user_id])), None)
        if user is None or not self.user_can_authenticate(user):
            return None
        # Types: the roles are cached on the user object for the request.
        user._clinic_roles = frozenset(  # type: ignore[attr-defined]
            role for role in GROUP_NAMES if getattr(user, _role_flag(role))
        )
        return user

    @staticmethod
    def _compile() -> tuple[str, tuple[Any, ...]]:
        """The SQL of the user-with-roles query and its parameters but the last, the user's
        id."""
        user_model = get_user_model()
        memberships = user_model.groups.through.objects.filter(user_id=OuterRef("pk"))
        flags = {
            _role_flag(role): Exists(memberships.filter(group__name=name))
            for role, name in GROUP_NAMES.items()
        }
        queryset = user_model._default_manager.annotate(**flags).filter(pk=0).order_by()
        sql, params = queryset.query.sql_with_params()
        if not params or params[-1] != 0:
            raise ImproperlyConfigured(f"The user query should end with the user id: {params}")
        return sql, tuple(params[:-1])


def has_role(user: Any, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def can_see_clinical(user: Any) -> bool:
    """Receptionists see suitability badges, never assessment or session detail."""
    return has_role(user, *CLINICAL_ROLES)


def can_handle_privacy_requests(user: Any) -> bool:
    return has_role(user, *PRIVACY_ROLES)


def check_role(user: Any, roles: Iterable[str]) -> None:
    if not has_role(user, *roles):
        raise PermissionDenied("Your role does not give access to this page.")


class RoleRequiredMixin:
    """Class-based views: set ``allowed_roles``; anyone else gets a 403."""

    allowed_roles: tuple[str, ...] = ALL_ROLES

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        check_role(request.user, self.allowed_roles)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


def role_required(*roles: str) -> Callable:
    """Function views: ``@role_required(Role.MANAGER)``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            check_role(request.user, roles or ALL_ROLES)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def sync_role_permissions(apps: Any = None) -> None:
    """Create the role groups and grant each the permissions in ``ROLE_PERMISSIONS``.

    Safe to run any number of times; run by a migration and after every ``migrate``
    so permissions of models added later reach the groups too.
    """
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, patterns in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=GROUP_NAMES[role])
        wanted = set()
        for pattern in patterns:
            app_label, codename = pattern.split(".", 1)
            queryset = permission_model.objects.filter(content_type__app_label=app_label)
            if codename != "*":
                queryset = queryset.filter(codename=codename)
            wanted.update(queryset.values_list("pk", flat=True))
        group.permissions.set(wanted)
