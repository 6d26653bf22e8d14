"""Session pages: logging with validation and spacing, signing, amending, aftercare."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from tests.builders import logged_session, london, planned_series, signed_session
from treatments.models import AftercareStatus, TreatmentSession

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _noon_on_monday_9_march() -> Any:
    with time_machine.travel(london(2026, 3, 9, 12), tick=False):
        yield


@pytest.fixture
def series(patient: Any, practitioner: Any) -> Any:
    return planned_series(patient, practitioner, start_on=dt.date(2026, 2, 9))


def session_data(practitioner: Any, **changes: Any) -> dict[str, Any]:
    return {
        "practitioner": practitioner.pk,
        "performed_on": "2026-03-09",
        "performed_time": "10:30",
        "areas": ["face", "neck"],
        "duration_minutes": 45,
        "param_intensity": "5",
        "param_vacuum": "4",
        "param_crystal_flow": "3",
        "param_passes": "2",
        "redness": "mild",
        "comfort": "4",
        "notes": "Tolerated well",
        "aftercare_additions": "Avoid the gym until tomorrow.",
        **changes,
    }


def test_the_log_page_starts_from_last_times_settings_and_shows_the_window(
    client: Any, practitioner: Any, series: Any
) -> None:
    signed_session(series, practitioner, london(2026, 2, 9, 10), areas=["face", "neck"])
    client.force_login(practitioner.user)

    page = client.get(reverse("treatments:session_log", args=[series.pk]))

    initial = page.context["form"].initial
    assert (initial["param_intensity"], initial["param_passes"]) == (4, 2)
    assert initial["areas"] == ["face", "neck"]
    assert initial["duration_minutes"] == 45
    assert initial["performed_on"] == dt.date(2026, 3, 9)
    assert "Monday 23 February 2026" in page.content.decode()


def test_intensity_advice_from_a_caution_screening_shows_while_logging(
    client: Any, practitioner: Any, patient: Any
) -> None:
    series = planned_series(
        patient, practitioner, start_on=dt.date(2026, 3, 2), skin_type="sensitive"
    )
    client.force_login(practitioner.user)

    page = client.get(reverse("treatments:session_log", args=[series.pk])).content.decode()

    assert "Caution: sensitive skin" in page
    assert "Use a lower intensity: sensitive skin." in page


def test_a_parameter_out_of_range_is_explained_next_to_it_and_nothing_typed_is_lost(
    client: Any, practitioner: Any, series: Any
) -> None:
    client.force_login(practitioner.user)

    page = client.post(
        reverse("treatments:session_log", args=[series.pk]),
        session_data(practitioner, param_passes="4", param_intensity="0"),
    )

    form = page.context["form"]
    assert form.errors["param_passes"] == ["Passes must be between 1 and 3."]
    assert form.errors["param_intensity"] == ["Intensity level must be between 1 and 10."]
    assert form["notes"].value() == "Tolerated well"
    assert "The session is not saved yet" in page.content.decode()
    assert not TreatmentSession.objects.exists()


def test_a_session_too_soon_is_refused_with_the_earliest_date(
    client: Any, practitioner: Any, series: Any
) -> None:
    signed_session(series, practitioner, london(2026, 3, 2, 10))
    client.force_login(practitioner.user)

    page = client.post(
        reverse("treatments:session_log", args=[series.pk]), session_data(practitioner)
    )

    assert page.status_code == 200
    assert (
        "the next session can be booked from Monday 16 March 2026"
        in (page.context["form"].errors["performed_on"][0])
    )
    assert series.sessions.count() == 1


def test_a_practitioner_overrides_the_minimum_on_the_page_with_a_reason(
    client: Any, practitioner: Any, series: Any
) -> None:
    signed_session(series, practitioner, london(2026, 3, 2, 10))
    client.force_login(practitioner.user)

    page = client.post(
        reverse("treatments:session_log", args=[series.pk]),
        session_data(practitioner, spacing_override_reason="Flying home on Friday"),
        follow=True,
    )

    session = series.sessions.get(number=2)
    assert session.spacing_override_reason == "Flying home on Friday"
    assert "inside the 14-day minimum; your override reason is recorded" in page.content.decode()


def test_a_manager_is_not_offered_the_spacing_override(
    client: Any, manager: Any, series: Any
) -> None:
    client.force_login(manager)

    page = client.get(reverse("treatments:session_log", args=[series.pk]))

    assert "spacing_override_reason" not in page.context["form"].fields


def test_a_late_session_is_saved_with_an_overdue_warning(
    client: Any, practitioner: Any, series: Any
) -> None:
    signed_session(series, practitioner, london(2026, 2, 8, 10))  # 29 days before
    client.force_login(practitioner.user)

    page = client.post(
        reverse("treatments:session_log", args=[series.pk]),
        session_data(practitioner),
        follow=True,
    )

    assert series.sessions.get(number=2).overdue is True
    assert "Session 2 is overdue: more than 28 days after the previous session." in (
        page.content.decode()
    )


def test_signing_on_the_page_locks_the_session_and_shows_the_printable_aftercare_note(
    client: Any, practitioner: Any, series: Any
) -> None:
    client.force_login(practitioner.user)
    client.post(reverse("treatments:session_log", args=[series.pk]), session_data(practitioner))
    session = series.sessions.get()

    page = client.post(reverse("treatments:session_sign", args=[session.pk]), follow=True)
    session.refresh_from_db()

    assert page.redirect_chain == [(reverse("treatments:aftercare_detail", args=[session.pk]), 302)]
    content = page.content.decode()
    assert session.signed_at is not None
    assert "Session 1 signed and locked." in content
    assert "broad-spectrum sunscreen" in content
    assert "Avoid the gym until tomorrow." in content
    assert "Session 2 can be from Monday 23 March 2026 to Monday 6 April 2026." in content
    assert "data-print" in content
    assert session.aftercare_note.status == AftercareStatus.PENDING


def test_signing_needs_a_post(client: Any, practitioner: Any, series: Any) -> None:
    session = logged_session(series, practitioner, london(2026, 3, 9, 10))
    client.force_login(practitioner.user)

    assert client.get(reverse("treatments:session_sign", args=[session.pk])).status_code == 405


def test_an_unsigned_session_can_be_corrected_or_discarded(
    client: Any, practitioner: Any, series: Any
) -> None:
    session = logged_session(series, practitioner, london(2026, 3, 9, 10))
    client.force_login(practitioner.user)

    edited = client.post(
        reverse("treatments:session_edit", args=[session.pk]),
        session_data(practitioner, redness="moderate"),
    )
    session.refresh_from_db()
    discarded = client.post(reverse("treatments:session_discard", args=[session.pk]), follow=True)

    assert edited.status_code == 302
    assert session.redness == "moderate"
    assert "Draft session 1 discarded." in discarded.content.decode()
    assert not series.sessions.exists()


def test_an_amendment_on_the_page_keeps_the_original_values_visible(
    client: Any, practitioner: Any, series: Any
) -> None:
    session = signed_session(series, practitioner, london(2026, 3, 9, 10))
    client.force_login(practitioner.user)
    url = reverse("treatments:session_amend", args=[session.pk])

    no_reason = client.post(url, session_data(practitioner, performed_time="10:00"))
    client.post(
        url,
        session_data(
            practitioner, performed_time="10:00", reason="Passes were 3, not 2", param_passes="3"
        ),
    )
    page = client.get(reverse("treatments:session_detail", args=[session.pk])).content.decode()

    assert "Give the reason for the amendment." in no_reason.content.decode()
    assert "Passes were 3, not 2" in page
    before = "Intensity level 4, Vacuum / pressure level 5, Crystal flow 3, Passes 2"
    after = "Intensity level 5, Vacuum / pressure level 4, Crystal flow 3, Passes 3"
    assert f"<del>{before}</del>" in page
    assert f"<td>{after}</td>" in page
    assert "Amara Okafor" in page


def test_editing_a_signed_session_leads_to_the_amendment_page(
    client: Any, practitioner: Any, series: Any
) -> None:
    session = signed_session(series, practitioner, london(2026, 3, 9, 10))
    client.force_login(practitioner.user)

    response = client.get(reverse("treatments:session_edit", args=[session.pk]))

    assert response.url == reverse("treatments:session_amend", args=[session.pk])


def test_receptionists_get_no_session_pages(
    client: Any, practitioner: Any, receptionist: Any, series: Any
) -> None:
    session = signed_session(series, practitioner, london(2026, 3, 9, 10))
    client.force_login(receptionist)

    pages = [
        ("get", reverse("treatments:session_log", args=[series.pk])),
        ("post", reverse("treatments:session_log", args=[series.pk])),
        ("get", reverse("treatments:session_detail", args=[session.pk])),
        ("get", reverse("treatments:session_amend", args=[session.pk])),
        ("post", reverse("treatments:session_sign", args=[session.pk])),
        ("get", reverse("treatments:aftercare_detail", args=[session.pk])),
    ]

    assert [getattr(client, method)(url).status_code for method, url in pages] == [403] * 6
