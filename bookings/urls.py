from __future__ import annotations

from django.urls import path

from bookings import views, views_availability

app_name = "bookings"
urlpatterns = [
    path("calendar/", views.calendar_day, name="calendar_day"),
    path("calendar/week/<int:practitioner_id>/", views.calendar_week, name="calendar_week"),
    path("appointments/new/", views.appointment_new, name="appointment_new"),
    path("appointments/<int:pk>/", views.appointment_detail, name="appointment_detail"),
    path("appointments/<int:pk>/action/", views.appointment_action, name="appointment_action"),
    path(
        "appointments/<int:pk>/reschedule/",
        views.appointment_reschedule,
        name="appointment_reschedule",
    ),
    path("appointments/<int:pk>/cancel/", views.appointment_cancel, name="appointment_cancel"),
    path("slots/", views.slot_search, name="slot_search"),
    path("due/", views.due_list, name="due_list"),
    path("series/<int:series_id>/book-rest/", views.series_book_rest, name="series_book_rest"),
    # Managers: availability
    path("availability/", views_availability.availability_overview, name="availability"),
    path(
        "availability/opening-hours/",
        views_availability.opening_hours_edit,
        name="opening_hours",
    ),
    path("availability/closures/", views_availability.closures, name="closures"),
    path(
        "availability/closures/<int:pk>/",
        views_availability.closure_detail,
        name="closure_detail",
    ),
    path(
        "availability/closures/<int:pk>/cancel-booked/",
        views_availability.closure_cancel_booked,
        name="closure_cancel_booked",
    ),
    path(
        "availability/closures/<int:pk>/delete/",
        views_availability.closure_delete,
        name="closure_delete",
    ),
    path(
        "availability/working-hours/<int:practitioner_id>/",
        views_availability.working_hours_edit,
        name="working_hours",
    ),
    path("availability/time-off/", views_availability.time_off, name="time_off"),
    path(
        "availability/time-off/<int:pk>/",
        views_availability.time_off_detail,
        name="time_off_detail",
    ),
    path(
        "availability/time-off/<int:pk>/cancel-booked/",
        views_availability.time_off_cancel_booked,
        name="time_off_cancel_booked",
    ),
    path(
        "availability/time-off/<int:pk>/delete/",
        views_availability.time_off_delete,
        name="time_off_delete",
    ),
    path("availability/rooms/", views_availability.rooms, name="rooms"),
    path("availability/rooms/new/", views_availability.room_edit, name="room_create"),
    path("availability/rooms/<int:pk>/", views_availability.room_edit, name="room_edit"),
    path(
        "availability/booking-settings/",
        views_availability.booking_settings,
        name="booking_settings",
    ),
    path("availability/api-tokens/", views_availability.api_tokens, name="api_tokens"),
    path(
        "availability/api-tokens/<int:pk>/revoke/",
        views_availability.api_token_revoke,
        name="api_token_revoke",
    ),
]
