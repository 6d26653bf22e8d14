"""A session logged for a booked appointment is tied to it, for the calendar and the due list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from bookings.models import Appointment
from tests.builders import london, planned_series, session_record
from tests.factories import PatientFactory, RoomFactory
from treatments import appointment_links
from treatments.services.sessions import (
    SessionError,
    session_discard,
    session_link_appointment,
    session_log,
    session_sign,
)

pytestmark = pytest.mark.django_db


def appointment_for(patient: Any, practitioner: Any, series: Any) -> Appointment:
    starts = london(2026, 3, 2, 10)
    return Appointment.objects.create(
        patient=patient,
        practitioner=practitioner,
        room=RoomFactory(name="Room 1"),
        treatment_type=series.treatment_type,
        series=series,
        series_session_number=1,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=30),
        blocked_until=starts + dt.timedelta(minutes=40),
    )


@pytest.fixture
def series(patient: Any, practitioner: Any) -> Any:
    return planned_series(patient, practitioner, start_on=dt.date(2026, 3, 2))


def _log(series: Any, practitioner: Any, appointment: Any = None) -> Any:
    return session_log(
        series=series,
        record=session_record(practitioner, london(2026, 3, 2, 10)),
        by=practitioner.user,
        now=london(2026, 3, 2, 11),
        appointment=appointment,
    ).session


def test_logging_a_session_for_an_appointment_links_the_two(
    series: Any, practitioner: Any, patient: Any
) -> None:
    appointment = appointment_for(patient, practitioner, series)

    session = _log(series, practitioner, appointment)
    appointment.refresh_from_db()

    assert appointment.treatment_session == session


def test_an_appointment_of_another_patient_is_not_linked(series: Any, practitioner: Any) -> None:
    other = PatientFactory()
    appointment = appointment_for(
        other, practitioner, planned_series(other, practitioner, start_on=dt.date(2026, 3, 2))
    )

    with pytest.raises(SessionError, match="another patient"):
        _log(series, practitioner, appointment)
    assert not series.sessions.exists()


def test_an_appointment_already_holding_a_session_is_not_linked_twice(
    series: Any, practitioner: Any, patient: Any
) -> None:
    appointment = appointment_for(patient, practitioner, series)
    first = _log(series, practitioner, appointment)
    session_sign(session=first, by=practitioner.user, now=london(2026, 3, 2, 11))
    second = session_log(
        series=series,
        record=session_record(practitioner, london(2026, 3, 16, 10)),
        by=practitioner.user,
        now=london(2026, 3, 16, 11),
    ).session

    with pytest.raises(SessionError, match="already has a session logged against it"):
        session_link_appointment(session=second, appointment=appointment)


def test_discarding_a_draft_frees_its_appointment_for_the_corrected_session(
    series: Any, practitioner: Any, patient: Any
) -> None:
    appointment = appointment_for(patient, practitioner, series)
    session_discard(session=_log(series, practitioner, appointment))
    appointment.refresh_from_db()

    corrected = _log(series, practitioner)
    session_link_appointment(session=corrected, appointment=appointment)
    appointment.refresh_from_db()

    assert appointment.treatment_session == corrected


def test_the_log_page_opened_from_an_appointment_links_the_session_to_it(
    client: Any, series: Any, practitioner: Any, patient: Any
) -> None:
    appointment = appointment_for(patient, practitioner, series)
    appointment.status = "completed"
    appointment.save(update_fields=["status"])
    client.force_login(practitioner.user)
    url = reverse("treatments:session_log", args=[series.pk]) + f"?appointment={appointment.pk}"

    with time_machine.travel(london(2026, 3, 2, 11), tick=False):
        page = client.get(url)
        initial = page.context["form"].initial
        assert (initial["performed_on"], initial["performed_time"]) == (
            dt.date(2026, 3, 2),
            dt.time(10, 0),
        )
        assert "saving links the two" in page.content.decode()
        client.post(
            url,
            {
                "practitioner": practitioner.pk,
                "performed_on": "2026-03-02",
                "performed_time": "10:00",
                "areas": ["face"],
                "duration_minutes": 30,
                "param_intensity": "4",
                "param_vacuum": "4",
                "param_crystal_flow": "3",
                "param_passes": "2",
                "redness": "mild",
                "comfort": "4",
            },
        )

    appointment.refresh_from_db()
    assert appointment.treatment_session == series.sessions.get(number=1)


def test_an_appointment_id_of_another_series_in_the_link_is_ignored(
    client: Any, series: Any, practitioner: Any
) -> None:
    other = PatientFactory()
    foreign = appointment_for(
        other, practitioner, planned_series(other, practitioner, start_on=dt.date(2026, 3, 2))
    )
    client.force_login(practitioner.user)
    url = reverse("treatments:session_log", args=[series.pk]) + f"?appointment={foreign.pk}"

    with time_machine.travel(london(2026, 3, 2, 11), tick=False):
        page = client.get(url)

    assert page.status_code == 200
    assert "saving links the two" not in page.content.decode()


def test_the_log_page_proposes_the_appointments_actual_start_not_a_rounded_one(
    client: Any, series: Any, practitioner: Any, patient: Any
) -> None:
    appointment = appointment_for(patient, practitioner, series)
    appointment.starts_at = london(2026, 3, 2, 16, 51)
    appointment.ends_at = appointment.starts_at + dt.timedelta(minutes=30)
    appointment.blocked_until = appointment.ends_at
    appointment.status = "completed"
    appointment.save(update_fields=["starts_at", "ends_at", "blocked_until", "status"])
    client.force_login(practitioner.user)
    url = reverse("treatments:session_log", args=[series.pk]) + f"?appointment={appointment.pk}"

    with time_machine.travel(london(2026, 3, 2, 17, 30), tick=False):
        page = client.get(url)

    assert page.context["form"].initial["performed_time"] == dt.time(16, 51)
    assert 'value="16:51"' in page.content.decode()


def test_treatments_writes_no_appointment_row_bookings_makes_and_frees_the_link(
    series: Any, practitioner: Any, patient: Any, monkeypatch: Any
) -> None:
    asked: list[tuple[str, int]] = []
    monkeypatch.setattr(
        appointment_links,
        "_handlers",
        appointment_links._Handlers(
            link=lambda *, session, appointment: asked.append(("link", appointment.pk)),
            unlink=lambda *, session: asked.append(("unlink", session.pk)),
        ),
    )
    appointment = appointment_for(patient, practitioner, series)

    session = _log(series, practitioner, appointment)
    appointment.refresh_from_db()
    assert appointment.treatment_session is None  # treatments did not write it itself
    session_pk = session.pk
    session_discard(session=session)

    assert asked == [("link", appointment.pk), ("unlink", session_pk)]
