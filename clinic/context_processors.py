from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from clinic.navigation import nav_for
from clinic.roles import Role, can_see_clinical, user_roles


def clinic(request: HttpRequest) -> dict[str, Any]:
    roles = user_roles(request.user)
    return {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "nav_items": nav_for(request.user, request.path) if roles else [],
        "user_role_labels": [Role(role).label for role in sorted(roles)],
        # Screening reasons, contraindication text and stop reasons are shown only when true.
        "sees_clinical": can_see_clinical(request.user),
    }
