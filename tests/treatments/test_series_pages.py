"""Series pages: planning, the series page for each role, the list, re-planning, stopping."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from tests.builders import (
    assess,
    logged_session,
    london,
    planned_series,
    signed_session,
    treatment_type,
)
from tests.factories import PatientFactory
from treatments.choices import SeriesStatus
from treatments.models import TreatmentSeries

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _noon_on_monday_2_march() -> Any:
    with time_machine.travel(london(2026, 3, 2, 12), tick=False):
        yield


def plan_data(**changes: Any) -> dict[str, Any]:
    return {
        "treatment_type": treatment_type().pk,
        "targeted_concerns": ["uneven_texture"],
        "planned_sessions": 6,
        "start_on": "2026-03-02",
        "planned_by": changes.pop("planned_by"),
        **changes,
    }


def test_the_plan_page_suggests_the_session_count_from_the_assessment(
    client: Any, practitioner: Any, patient: Any
) -> None:
    assess(patient, by=practitioner.user, assessed_on=TODAY, concerns={"acne_scars": "severe"})
    client.force_login(practitioner.user)

    page = client.get(reverse("treatments:series_plan", args=[patient.pk]))

    form = page.context["form"]
    assert form.initial["planned_sessions"] == 8
    assert form.initial["targeted_concerns"] == ["acne_scars"]
    assert form.initial["planned_by"] == practitioner.pk
    assert "Microneedling (nano tip): <strong>6</strong>" in page.content.decode()


def test_planning_a_series_goes_to_its_page(client: Any, practitioner: Any, patient: Any) -> None:
    assess(patient, by=practitioner.user, assessed_on=TODAY)
    client.force_login(practitioner.user)

    response = client.post(
        reverse("treatments:series_plan", args=[patient.pk]),
        plan_data(planned_by=practitioner.pk),
        follow=True,
    )

    series = TreatmentSeries.objects.get(patient=patient)
    assert response.redirect_chain == [(reverse("treatments:series_detail", args=[series.pk]), 302)]
    assert "6-session series of Crystal microdermabrasion planned for Zoë Adeyemi" in (
        response.content.decode()
    )


def test_caution_advice_shows_while_planning(client: Any, practitioner: Any, patient: Any) -> None:
    assess(patient, by=practitioner.user, assessed_on=TODAY, fitzpatrick=5)
    client.force_login(practitioner.user)

    page = client.get(reverse("treatments:series_plan", args=[patient.pk])).content.decode()

    assert "Caution: Fitzpatrick V" in page
    assert "Use a lower intensity: Fitzpatrick type V skin." in page


def test_a_not_suitable_patient_is_planned_only_with_an_override_reason(
    client: Any, practitioner: Any, patient: Any
) -> None:
    assess(patient, by=practitioner.user, assessed_on=TODAY, contraindications=("rosacea",))
    client.force_login(practitioner.user)
    url = reverse("treatments:series_plan", args=[patient.pk])

    refused = client.post(url, plan_data(planned_by=practitioner.pk))
    allowed = client.post(
        url, plan_data(planned_by=practitioner.pk, override_reason="Dermatologist letter on file")
    )

    assert "record why it is safe to go ahead" in refused.content.decode()
    assert "Rosacea: exfoliation inflames it" in refused.content.decode()
    assert allowed.status_code == 302
    assert patient.series.get().suitability_override_reason == "Dermatologist letter on file"


def test_planning_without_an_assessment_explains_what_to_do_first(
    client: Any, practitioner: Any, patient: Any
) -> None:
    client.force_login(practitioner.user)

    page = client.get(reverse("treatments:series_plan", args=[patient.pk]))

    assert page.context["form"] is None
    assert "Record a skin assessment before planning a series" in page.content.decode()


def test_a_refused_plan_keeps_what_was_typed(client: Any, practitioner: Any, patient: Any) -> None:
    planned_series(patient, practitioner, start_on=TODAY)
    client.force_login(practitioner.user)

    page = client.post(
        reverse("treatments:series_plan", args=[patient.pk]),
        plan_data(planned_by=practitioner.pk, planned_sessions=7),
    )

    assert "already has a planned series of Crystal microdermabrasion" in page.content.decode()
    assert page.context["form"]["planned_sessions"].value() == "7"


def test_receptionists_cannot_plan_a_series(client: Any, receptionist: Any, patient: Any) -> None:
    client.force_login(receptionist)

    assert client.get(reverse("treatments:series_plan", args=[patient.pk])).status_code == 403


def test_the_series_page_shows_progress_the_next_window_and_the_sessions_side_by_side(
    client: Any, practitioner: Any, patient: Any
) -> None:
    series = planned_series(patient, practitioner, start_on=dt.date(2026, 2, 9))
    signed_session(series, practitioner, london(2026, 2, 9, 10))
    signed_session(series, practitioner, london(2026, 2, 23, 10), redness="moderate")
    client.force_login(practitioner.user)

    page = client.get(reverse("treatments:series_detail", args=[series.pk])).content.decode()

    assert "Session 2 of 6" in page
    assert "Monday 9 March 2026" in page  # earliest for session 3
    assert "Monday 23 March 2026" in page  # latest
    assert "Intensity level" in page
    assert "Moderate" in page
    assert f'href="{reverse("treatments:session_log", args=[series.pk])}"' in page


def test_receptionists_see_progress_and_windows_but_no_clinical_detail(
    client: Any, practitioner: Any, receptionist: Any, patient: Any
) -> None:
    series = planned_series(patient, practitioner, start_on=dt.date(2026, 2, 9))
    signed_session(series, practitioner, london(2026, 2, 9, 10), notes="Reacted to vacuum 6")
    client.force_login(receptionist)

    page = client.get(reverse("treatments:series_detail", args=[series.pk])).content.decode()

    assert "Session 1 of 6" in page
    assert "Monday 23 February 2026" in page
    assert "Session 1: Monday 9 February 2026" in page
    for clinical in (
        "Intensity level",
        "Redness",
        "Reacted to vacuum",
        "Uneven texture",
        "/sessions/",
        "Log session",
    ):
        assert clinical not in page


def test_a_newly_planned_series_offers_to_book_its_sessions(
    client: Any, practitioner: Any, receptionist: Any, patient: Any
) -> None:
    series = planned_series(patient, practitioner, start_on=dt.date(2026, 3, 9))
    client.force_login(receptionist)

    page = client.get(reverse("treatments:series_detail", args=[series.pk])).content.decode()

    assert "Book these sessions" in page
    assert f'href="{reverse("bookings:series_book_rest", args=[series.pk])}"' in page


def test_a_stopped_series_offers_no_booking(client: Any, practitioner: Any, patient: Any) -> None:
    series = planned_series(patient, practitioner, start_on=dt.date(2026, 3, 9))
    TreatmentSeries.objects.filter(pk=series.pk).update(
        status=SeriesStatus.STOPPED, stop_reason="Moved abroad"
    )
    client.force_login(practitioner.user)

    page = client.get(reverse("treatments:series_detail", args=[series.pk])).content.decode()

    assert "Book these sessions" not in page


def test_the_series_list_runs_a_fixed_number_of_queries(
    client: Any, practitioner: Any, receptionist: Any, django_assert_num_queries: Any
) -> None:
    for _ in range(4):
        planned_series(PatientFactory(), practitioner, start_on=TODAY)
    client.force_login(receptionist)
    client.get(reverse("treatments:series_list"))

    # session, user with roles, count, one page of series with patients and types; session save 3
    with django_assert_num_queries(7):
        page = client.get(reverse("treatments:series_list"), {"status": "planned"})

    assert len(page.context["rows"]) == 4


def test_the_series_list_filters_by_status(client: Any, practitioner: Any, patient: Any) -> None:
    series = planned_series(patient, practitioner, start_on=TODAY)
    client.force_login(practitioner.user)

    active = client.get(reverse("treatments:series_list"), {"status": "active"})
    planned = client.get(reverse("treatments:series_list"), {"status": "planned"})

    assert active.context["rows"] == []
    assert [row[0] for row in planned.context["rows"]] == [series]
    assert "No series with this status." in active.content.decode()


def test_stopping_a_series_asks_for_the_reason(
    client: Any, practitioner: Any, patient: Any
) -> None:
    series = planned_series(patient, practitioner, start_on=TODAY)
    client.force_login(practitioner.user)
    url = reverse("treatments:series_stop", args=[series.pk])

    refused = client.post(url, {"reason": ""})
    stopped = client.post(url, {"reason": "Pregnant: will return next year"}, follow=True)
    series.refresh_from_db()

    assert "Give the reason for stopping the series." in refused.content.decode()
    assert series.status == SeriesStatus.STOPPED
    assert "Pregnant: will return next year" in stopped.content.decode()


def test_changing_the_plan_adds_sessions(client: Any, practitioner: Any, patient: Any) -> None:
    series = planned_series(patient, practitioner, start_on=TODAY)
    logged_session(series, practitioner, london(2026, 3, 2, 10))
    client.force_login(practitioner.user)

    response = client.post(
        reverse("treatments:series_update", args=[series.pk]),
        {"planned_sessions": 8, "targeted_concerns": ["uneven_texture", "dull_rough"]},
    )
    series.refresh_from_db()

    assert response.status_code == 302
    assert (series.planned_sessions, series.targeted_concerns, series.start_on) == (
        8,
        ["uneven_texture", "dull_rough"],
        TODAY,
    )


def test_a_completed_series_is_moved_on_to_maintenance_from_its_page(
    client: Any, practitioner: Any, patient: Any
) -> None:
    series = planned_series(patient, practitioner, start_on=dt.date(2026, 2, 9), planned_sessions=1)
    signed_session(series, practitioner, london(2026, 2, 9, 10))
    client.force_login(practitioner.user)

    page = client.post(reverse("treatments:series_maintenance", args=[series.pk]), follow=True)
    series.refresh_from_db()

    assert series.status == SeriesStatus.MAINTENANCE
    assert "Maintenance started. The first is due around Wednesday 11 March 2026." in (
        page.content.decode()
    )
    assert "Wednesday 11 March 2026" in page.content.decode()
