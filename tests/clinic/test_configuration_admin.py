"""Leak 6: the admin is no back door around the configuration rules.

Models with an app page are read-only in the admin (and link to the page); practitioners,
which have no page yet, are saved through their service, so the rules and the audit trail
hold on that path too. The outbound-message ledger is append-only there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import BookingSettings, TimeOff, WorkingHours
from clinic.models import (
    AuditAction,
    AuditEntry,
    ClinicClosure,
    MessageKind,
    OpeningHours,
    OutboundMessage,
    Practitioner,
)
from tests.factories import RoomFactory
from treatments.models import TreatmentType

pytestmark = pytest.mark.django_db


def treatment_form(treatment_type: TreatmentType, **changes: Any) -> dict[str, Any]:
    """What the old admin change form posted for a treatment type."""
    return {
        "name": treatment_type.name,
        "modality": treatment_type.modality,
        "description": "",
        "default_duration_minutes": 30,
        "extra_area_minutes": 15,
        "buffer_minutes": 10,
        "min_interval_days": 14,
        "max_interval_days": 28,
        "maintenance_interval_days": 30,
        "sessions_mild": 4,
        "sessions_moderate": 6,
        "sessions_severe": 8,
        "parameter_schema": "[]",
        "aftercare_template": treatment_type.aftercare_template,
        "is_active": "on",
        **changes,
    }


def test_the_admin_refuses_a_zero_minute_treatment(client: Any, manager: Any) -> None:
    treatment_type = TreatmentType.objects.get(name="Crystal microdermabrasion")
    client.force_login(manager)
    url = reverse("admin:treatments_treatmenttype_change", args=[treatment_type.pk])

    response = client.post(url, treatment_form(treatment_type, default_duration_minutes=0))
    added = client.post(
        reverse("admin:treatments_treatmenttype_add"),
        treatment_form(treatment_type, name="Zero minutes", default_duration_minutes=0),
    )
    treatment_type.refresh_from_db()

    assert (response.status_code, added.status_code) == (403, 403)
    assert treatment_type.default_duration_minutes != 0
    assert not TreatmentType.objects.filter(name="Zero minutes").exists()


def _configuration_rows(practitioner: Any) -> dict[str, tuple[Any, str]]:
    """Admin name -> (a row, the app page the admin links to for it)."""
    now = timezone.now()
    crystal = TreatmentType.objects.get(name="Crystal microdermabrasion")
    room = RoomFactory(name="Room 9")
    return {
        "treatments_treatmenttype": (
            crystal,
            reverse("treatments:treatmenttype_update", args=[crystal.pk]),
        ),
        "clinic_room": (room, reverse("bookings:room_edit", args=[room.pk])),
        "clinic_openinghours": (
            OpeningHours.objects.create(weekday=0, opens_at=dt.time(9), closes_at=dt.time(17)),
            reverse("bookings:opening_hours"),
        ),
        "clinic_clinicclosure": (
            ClinicClosure.objects.create(date=dt.date(2031, 1, 1), reason="New Year"),
            reverse("bookings:closures"),
        ),
        "bookings_workinghours": (
            WorkingHours.objects.create(
                practitioner=practitioner, weekday=0, starts_at=dt.time(9), ends_at=dt.time(17)
            ),
            reverse("bookings:working_hours", args=[practitioner.pk]),
        ),
        "bookings_timeoff": (
            TimeOff.objects.create(
                practitioner=practitioner, starts_at=now, ends_at=now + dt.timedelta(hours=2)
            ),
            reverse("bookings:time_off"),
        ),
        "bookings_bookingsettings": (BookingSettings.load(), reverse("bookings:booking_settings")),
    }


def test_configuration_with_an_app_page_is_read_only_in_the_admin_and_links_to_the_page(
    client: Any, manager: Any, practitioner: Any
) -> None:
    client.force_login(manager)
    for admin_name, (row, app_page_url) in _configuration_rows(practitioner).items():
        change_url = reverse(f"admin:{admin_name}_change", args=[row.pk])

        page = client.get(change_url)
        posted = client.post(change_url, {})
        added = client.get(reverse(f"admin:{admin_name}_add"))
        deleted = client.post(reverse(f"admin:{admin_name}_delete", args=[row.pk]), {"post": "yes"})

        html = page.content.decode()
        assert page.status_code == 200, admin_name
        assert 'name="_save"' not in html, admin_name
        assert (posted.status_code, added.status_code, deleted.status_code) == (403, 403, 403)
        assert type(row).objects.filter(pk=row.pk).exists(), admin_name
        assert f'href="{app_page_url}"' in html, admin_name


def test_a_practitioner_saved_in_the_admin_goes_through_the_service_and_is_audited(
    client: Any, manager: Any
) -> None:
    client.force_login(manager)
    add_url = reverse("admin:clinic_practitioner_add")
    data = {"display_name": "  Ines Duarte ", "title": "Nurse", "colour": "#12ab34"}

    refused = client.post(add_url, {**data, "colour": "#12ab3g"})
    saved = client.post(add_url, {**data, "is_active": "on"})

    assert refused.status_code == 200
    assert "Give the calendar colour as #rrggbb" in refused.content.decode()
    assert saved.status_code == 302
    practitioner = Practitioner.objects.get()
    assert practitioner.display_name == "Ines Duarte"
    entry = AuditEntry.objects.get(object_type="clinic.practitioner")
    assert (entry.action, entry.object_id, entry.actor_username) == (
        AuditAction.CREATE,
        str(practitioner.pk),
        manager.username,
    )


def test_the_outbound_message_ledger_is_append_only_in_the_admin(client: Any, manager: Any) -> None:
    message = OutboundMessage.objects.create(
        kind=MessageKind.APPOINTMENT_REMINDER,
        idempotency_key="reminder:1:48h",
        recipient="zoe@patients.example",
        due_at=timezone.now(),
    )
    client.force_login(manager)
    change_url = reverse("admin:clinic_outboundmessage_change", args=[message.pk])

    page = client.get(change_url)
    posted = client.post(change_url, {"status": "sent"})
    deleted = client.post(
        reverse("admin:clinic_outboundmessage_delete", args=[message.pk]), {"post": "yes"}
    )
    bulk_deleted = client.post(
        reverse("admin:clinic_outboundmessage_changelist"),
        {"action": "delete_selected", "_selected_action": [message.pk], "post": "yes"},
    )

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert (posted.status_code, deleted.status_code) == (403, 403)
    assert bulk_deleted.status_code in (200, 302)
    assert OutboundMessage.objects.filter(pk=message.pk, status="pending").exists()
