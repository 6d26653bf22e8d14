"""Patient self-service pages, reached from links in emails (no login): mounted at /p/."""

from __future__ import annotations

from django.urls import path, re_path

from bookings import views_public

app_name = "selfservice"
urlpatterns = [
    path("confirm/<str:token>/", views_public.confirm, name="confirm"),
    path("cancel/<str:token>/", views_public.cancel, name="cancel"),
    path("reschedule/<str:token>/", views_public.reschedule, name="reschedule"),
    path("pick/<str:token>/", views_public.pick, name="pick"),
    path("rebook/<str:token>/", views_public.rebook, name="rebook"),
    path("unsubscribe/<str:token>/", views_public.unsubscribe, name="unsubscribe"),
    # Last: any other address under /p/ (cut short, mistyped) gets the patient's "call us" page.
    re_path(r"^(?P<rest>.*)$", views_public.link_not_working, name="link_not_working"),
]
