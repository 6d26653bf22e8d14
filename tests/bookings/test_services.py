"""Booking services: conflict-free booking, availability rules, suitability, lifecycle."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bookings import services
from bookings.models import (
    Appointment,
    AppointmentChangeKind,
    AppointmentStatus,
    BookingSettings,
    TimeOff,
)
from clinic.models import ClinicClosure, Room
from tests.builders import MONDAY, assess, local
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

TUESDAY = MONDAY + dt.timedelta(days=1)


@pytest.fixture
def notified(monkeypatch: Any) -> list[tuple[int, str]]:
    """What the booking services told the notifications seam."""
    calls: list[tuple[int, str]] = []
    monkeypatch.setattr(
        "bookings.notifications.appointment_changed",
        lambda *, appointment_id, event: calls.append((appointment_id, event)),
    )
    return calls


def book(patient: Any, practitioner: Any, treatment_type: Any, starts_at: Any, **extra: Any):
    extra.setdefault("booked_by", None)
    return services.appointment_book(
        patient=patient,
        practitioner=practitioner,
        treatment_type=treatment_type,
        starts_at=starts_at,
        **extra,
    )


def test_books_a_free_slot_with_a_capable_room_and_its_cleanup_time(
    bookable, practitioner, patient, receptionist
):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10), booked_by=receptionist)

    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.room.name == "Room 1"
    assert appointment.ends_at == local(MONDAY, 10, 30)
    assert appointment.blocked_until == local(MONDAY, 10, 40)
    assert appointment.booked_by == receptionist
    (change,) = appointment.changes.all()
    assert change.kind == AppointmentChangeKind.BOOKED
    assert change.changed_by == receptionist


def test_tells_the_notifications_seam_inside_the_booking_transaction(
    bookable, practitioner, patient, notified, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
        assert notified == [(appointment.pk, "booked")]


def test_refuses_a_second_patient_in_the_practitioners_booked_time(bookable, practitioner, patient):
    book(patient, practitioner, bookable, local(MONDAY, 10))
    other = PatientFactory()

    with pytest.raises(services.SlotUnavailable) as refused:
        book(other, practitioner, bookable, local(MONDAY, 10, 15))

    assert refused.value.message == (
        "Amara Okafor is already booked from 10:00 to 10:40 (including cleanup time)."
    )
    assert Appointment.objects.count() == 1


def test_refuses_a_start_inside_the_previous_appointments_cleanup_buffer(
    bookable, practitioner, patient
):
    book(patient, practitioner, bookable, local(MONDAY, 10))
    with pytest.raises(services.SlotUnavailable, match="already booked"):
        book(PatientFactory(), practitioner, bookable, local(MONDAY, 10, 30))
    # Cleanup ends at 10:40; the next start on the quarter-hour grid is free.
    assert book(PatientFactory(), practitioner, bookable, local(MONDAY, 10, 45))


def test_refuses_the_same_patient_with_two_practitioners_at_once(
    bookable, practitioner, second_practitioner, patient
):
    Room.objects.create(name="Room 2").treatment_types.add(bookable)
    book(patient, practitioner, bookable, local(MONDAY, 10))

    with pytest.raises(services.SlotUnavailable) as refused:
        book(patient, second_practitioner, bookable, local(MONDAY, 10, 15))

    assert "patient already has an appointment from 10:00 to 10:30" in refused.value.message


def test_refuses_when_the_only_capable_room_is_taken(
    bookable, practitioner, second_practitioner, patient
):
    book(patient, practitioner, bookable, local(MONDAY, 10))

    with pytest.raises(services.SlotUnavailable) as refused:
        book(PatientFactory(), second_practitioner, bookable, local(MONDAY, 10))

    assert refused.value.message == (
        "No room is free at 10:00 for this treatment (Room 1 already booked)."
    )


def test_books_the_second_practitioner_into_another_capable_room(
    bookable, practitioner, second_practitioner, patient
):
    Room.objects.create(name="Room 2").treatment_types.add(bookable)
    book(patient, practitioner, bookable, local(MONDAY, 10))
    second = book(PatientFactory(), second_practitioner, bookable, local(MONDAY, 10))
    assert second.room.name == "Room 2"


def test_refuses_a_room_that_cannot_host_the_treatment(bookable, practitioner, patient):
    laser = Room.objects.create(name="Laser suite")
    with pytest.raises(services.SlotUnavailable, match="Laser suite cannot host Crystal"):
        book(patient, practitioner, bookable, local(MONDAY, 10), room=laser)


def test_cancelling_frees_the_time_for_someone_else(bookable, practitioner, patient, receptionist):
    first = book(patient, practitioner, bookable, local(MONDAY, 10))
    services.appointment_cancel(
        appointment=first, reason="Patient unwell", cancelled_by=receptionist
    )
    assert book(PatientFactory(), practitioner, bookable, local(MONDAY, 10))


@pytest.mark.parametrize(
    ("starts_at", "message"),
    [
        (local(MONDAY, 13, 15), "Amara Okafor is on a break from 13:00 to 13:45."),
        (local(MONDAY, 17, 45), "Outside Amara Okafor's working hours (09:00-18:00)."),
        (local(MONDAY + dt.timedelta(days=6), 10), "The clinic is not open on Sundays."),
        (local(MONDAY + dt.timedelta(days=5), 10), "Amara Okafor does not work on Saturdays."),
    ],
)
def test_refuses_times_outside_availability_with_the_reason(
    bookable, practitioner, patient, starts_at, message
):
    with pytest.raises(services.SlotUnavailable) as refused:
        book(patient, practitioner, bookable, starts_at)
    assert refused.value.message == message


def test_refuses_a_closed_day_naming_the_closure(bookable, practitioner, patient):
    ClinicClosure.objects.create(date=TUESDAY, reason="Staff training")
    with pytest.raises(services.SlotUnavailable) as refused:
        book(patient, practitioner, bookable, local(TUESDAY, 10))
    assert (
        refused.value.message == "The clinic is closed on Tuesday 24 March 2026 (Staff training)."
    )


def test_refuses_during_the_practitioners_time_off(bookable, practitioner, patient):
    TimeOff.objects.create(
        practitioner=practitioner, starts_at=local(TUESDAY, 0), ends_at=local(TUESDAY, 23, 59)
    )
    with pytest.raises(services.SlotUnavailable, match="Amara Okafor is off from 24 Mar 2026"):
        book(patient, practitioner, bookable, local(TUESDAY, 10))


def test_refuses_inside_the_minimum_booking_notice(bookable, practitioner, patient):
    settings_row = BookingSettings.load()
    settings_row.minimum_notice_minutes = 180
    settings_row.save()
    with pytest.raises(services.SlotUnavailable, match="minimum booking notice"):
        book(patient, practitioner, bookable, local(MONDAY, 10, 45))
    assert book(patient, practitioner, bookable, local(MONDAY, 11))


def test_refuses_in_the_past(bookable, practitioner, patient):
    with pytest.raises(services.SlotUnavailable, match="Too late to book"):
        book(patient, practitioner, bookable, local(MONDAY - dt.timedelta(days=3), 10))


def test_refuses_an_archived_patient(bookable, practitioner):
    archived = PatientFactory(is_active=False)
    with pytest.raises(services.BookingError, match="archived"):
        book(archived, practitioner, bookable, local(MONDAY, 10))


def test_patient_with_no_assessment_yet_can_be_booked(bookable, practitioner, patient):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    assert appointment.suitability_override_reason == ""


def test_not_suitable_patient_is_refused_without_an_override(
    bookable, practitioner, practitioner_user, patient, receptionist
):
    assess(patient, by=practitioner_user, contraindications={"rosacea"})

    with pytest.raises(services.SuitabilityOverrideRequired) as refused:
        book(patient, practitioner, bookable, local(MONDAY, 10), booked_by=receptionist)

    assert "assessed as not suitable: a practitioner must review" in refused.value.message
    assert "recorded override reason" in refused.value.message
    assert "rosacea" not in refused.value.message  # the medical reason is for clinical eyes
    assert refused.value.clinical_detail == "Not suitable: rosacea"


def test_receptionist_cannot_record_a_suitability_override(
    bookable, practitioner, practitioner_user, patient, receptionist
):
    assess(patient, by=practitioner_user, contraindications={"rosacea"})
    with pytest.raises(services.SuitabilityOverrideRequired, match="Only a practitioner"):
        book(
            patient,
            practitioner,
            bookable,
            local(MONDAY, 10),
            booked_by=receptionist,
            suitability_override_reason="Patient insists",
        )


def test_practitioner_override_books_a_not_suitable_patient_and_is_recorded(
    bookable, practitioner, practitioner_user, patient
):
    assess(patient, by=practitioner_user, contraindications={"rosacea"})
    appointment = book(
        patient,
        practitioner,
        bookable,
        local(MONDAY, 10),
        booked_by=practitioner_user,
        suitability_override_reason="Rosacea in remission, dermatologist letter on file",
    )
    assert appointment.suitability_override_reason.startswith("Rosacea in remission")
    assert appointment.override_by == practitioner_user


def test_rejects_naive_start_times(bookable, practitioner, patient):
    with pytest.raises(ValueError, match="aware"):
        book(patient, practitioner, bookable, dt.datetime(2026, 3, 23, 10))  # noqa: DTZ001


# ---------------------------------------------------------------------------------------------
# Reschedule
# ---------------------------------------------------------------------------------------------


def test_reschedule_moves_and_keeps_the_old_time_in_history(
    bookable,
    practitioner,
    second_practitioner,
    patient,
    receptionist,
    notified,
    django_capture_on_commit_callbacks,
):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    services.appointment_confirm(appointment=appointment, confirmed_by=receptionist)

    with django_capture_on_commit_callbacks(execute=True):
        moved = services.appointment_reschedule(
            appointment=appointment,
            starts_at=local(TUESDAY, 11),
            practitioner=second_practitioner,
            changed_by=receptionist,
            reason="Patient asked for Tuesday",
        )

    assert moved.starts_at == local(TUESDAY, 11)
    assert moved.practitioner == second_practitioner
    assert moved.status == AppointmentStatus.BOOKED  # the patient confirmed the old time
    assert moved.confirmed_at is None
    change = moved.changes.get(kind=AppointmentChangeKind.RESCHEDULED)
    assert change.from_starts_at == local(MONDAY, 10)
    assert change.to_starts_at == local(TUESDAY, 11)
    assert change.from_practitioner == practitioner
    assert change.reason == "Patient asked for Tuesday"
    assert notified[-1] == (moved.pk, "rescheduled")


def test_reschedule_can_move_within_its_own_old_time(bookable, practitioner, patient):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    moved = services.appointment_reschedule(
        appointment=appointment, starts_at=local(MONDAY, 10, 15)
    )
    assert moved.starts_at == local(MONDAY, 10, 15)
    assert moved.room.name == "Room 1"


def test_reschedule_into_a_taken_slot_is_refused_and_changes_nothing(
    bookable, practitioner, patient
):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    book(PatientFactory(), practitioner, bookable, local(MONDAY, 11))

    with pytest.raises(services.SlotUnavailable, match="already booked from 11:00"):
        services.appointment_reschedule(appointment=appointment, starts_at=local(MONDAY, 11))

    appointment.refresh_from_db()
    assert appointment.starts_at == local(MONDAY, 10)


def test_a_cancelled_appointment_cannot_be_moved(bookable, practitioner, patient):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    services.appointment_cancel(appointment=appointment, reason="Ill")
    with pytest.raises(services.InvalidTransition, match="cancelled appointment cannot be moved"):
        services.appointment_reschedule(appointment=appointment, starts_at=local(MONDAY, 11))


# ---------------------------------------------------------------------------------------------
# Lifecycle
# ---------------------------------------------------------------------------------------------


def test_cancel_needs_a_reason_and_records_it(bookable, practitioner, patient, receptionist):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    with pytest.raises(services.BookingError, match="Give a reason"):
        services.appointment_cancel(appointment=appointment, reason="  ", cancelled_by=receptionist)

    cancelled = services.appointment_cancel(
        appointment=appointment, reason="Patient unwell", cancelled_by=receptionist
    )
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.cancellation_reason == "Patient unwell"
    assert cancelled.changes.get(kind=AppointmentChangeKind.CANCELLED).reason == "Patient unwell"


def test_confirming_twice_is_harmless(bookable, practitioner, patient):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    first = services.appointment_confirm(appointment=appointment)
    second = services.appointment_confirm(appointment=appointment)
    assert first.confirmed_at == second.confirmed_at
    assert appointment.changes.filter(kind=AppointmentChangeKind.STATUS).count() == 1


def test_check_in_only_on_the_day(bookable, practitioner, patient, receptionist, time_machine):
    appointment = book(patient, practitioner, bookable, local(TUESDAY, 10))
    with pytest.raises(services.InvalidTransition, match="only on the day"):
        services.appointment_check_in(appointment=appointment, checked_in_by=receptionist)

    time_machine.move_to(local(TUESDAY, 9, 50), tick=False)
    checked_in = services.appointment_check_in(appointment=appointment, checked_in_by=receptionist)
    assert checked_in.status == AppointmentStatus.CHECKED_IN
    assert checked_in.checked_in_at == local(TUESDAY, 9, 50)


def test_no_show_only_after_the_start(bookable, practitioner, patient, receptionist, time_machine):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    with pytest.raises(services.InvalidTransition, match="only after the start time"):
        services.appointment_mark_no_show(appointment=appointment, marked_by=receptionist)
    time_machine.move_to(local(MONDAY, 10, 20), tick=False)
    assert (
        services.appointment_mark_no_show(appointment=appointment, marked_by=receptionist).status
        == AppointmentStatus.NO_SHOW
    )


def test_complete_after_check_in(bookable, practitioner, patient, practitioner_user, time_machine):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    time_machine.move_to(local(MONDAY, 9, 55), tick=False)
    services.appointment_check_in(appointment=appointment, checked_in_by=practitioner_user)
    with pytest.raises(services.InvalidTransition, match="only after it has started"):
        services.appointment_complete(appointment=appointment, completed_by=practitioner_user)
    time_machine.move_to(local(MONDAY, 10, 35), tick=False)
    completed = services.appointment_complete(
        appointment=appointment, completed_by=practitioner_user
    )
    assert completed.status == AppointmentStatus.COMPLETED
    assert completed.completed_at == local(MONDAY, 10, 35)


def test_a_completed_appointment_cannot_be_cancelled(
    bookable, practitioner, patient, practitioner_user, time_machine
):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    time_machine.move_to(local(MONDAY, 10, 35), tick=False)
    services.appointment_complete(appointment=appointment, completed_by=practitioner_user)
    with pytest.raises(services.InvalidTransition) as refused:
        services.appointment_cancel(appointment=appointment, reason="Oops")
    assert refused.value.message == "This appointment is completed: it cannot be cancelled."


def test_set_status_refuses_statuses_that_are_not_actions(bookable, practitioner, patient):
    appointment = book(patient, practitioner, bookable, local(MONDAY, 10))
    with pytest.raises(services.InvalidTransition, match="cannot be set to 'booked'"):
        services.appointment_set_status(appointment=appointment, status="booked", changed_by=None)
