"""Shared reads for the clinic app, each a fixed number of queries."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Prefetch, QuerySet


def staff_list() -> QuerySet:
    """Staff users with their role groups: two queries however many users there are."""
    return (
        get_user_model()
        .objects.order_by("-is_active", "last_name", "first_name", "username")
        .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name")))
    )
