"""The navigation bar: which entries each role sees.

Each app adds its pages here; ``url_name`` must resolve without arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from clinic.roles import ALL_ROLES, Role, user_roles


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: tuple[str, ...] = ALL_ROLES


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Home", "home"),
    NavItem("Calendar", "bookings:calendar_day"),
    NavItem("Due list", "bookings:due_list"),
    NavItem("Patients", "clinic:patient_list"),
    NavItem("Series", "treatments:series_list"),
    NavItem("Treatments", "treatments:treatmenttype_list"),
    NavItem("Availability", "bookings:availability", (Role.MANAGER,)),
    NavItem("Outbox", "clinic:outbox_list"),
    NavItem("Staff", "clinic:staff_list", (Role.MANAGER,)),
    NavItem("Audit", "clinic:audit_report", (Role.MANAGER,)),
)

ADMIN_ITEM = NavItem("Admin", "admin:index", (Role.MANAGER,))


def nav_for(user: Any, current_path: str) -> list[dict[str, Any]]:
    roles = user_roles(user)
    entries = []
    for item in (*NAV_ITEMS, ADMIN_ITEM):
        if not roles & set(item.roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        active = current_path == url or (url != "/" and current_path.startswith(url))
        entries.append({"label": item.label, "url": url, "active": active})
    return entries
