"""The patient page leads managers to the patient's GDPR rights; a new patient's email consent
starts unticked and says what it governs."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


class _Tags(HTMLParser):
    """The page's tags with their attributes, and each label's and help text's words."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.texts: dict[str, str] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.tags.append((tag, values))
        key = f"label:{values['for']}" if tag == "label" and "for" in values else values.get("id")
        if tag in {"a", "label", "div", "small"} and key:
            self._open.append(key)
            self.texts.setdefault(key, "")
        elif tag in {"a", "label", "div", "small"}:
            self._open.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"a", "label", "div", "small"} and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for key in self._open:
            if key:
                self.texts[key] += data

    def find(self, tag: str, **attrs: str) -> dict[str, str] | None:
        for name, values in self.tags:
            if name == tag and all(values.get(key) == value for key, value in attrs.items()):
                return values
        return None

    def hrefs(self) -> set[str]:
        return {values["href"] for name, values in self.tags if name == "a" and "href" in values}

    def text(self, key: str) -> str:
        return re.sub(r"\s+", " ", self.texts.get(key, "")).strip()


def _page(client: Client, url: str) -> _Tags:
    response = client.get(url)
    assert response.status_code == 200
    page = _Tags()
    page.feed(response.content.decode())
    return page


def _link_text(client: Client, url: str, href: str) -> str | None:
    """The words of the link to ``href`` on the page at ``url`` (None: no such link)."""
    html = client.get(url).content.decode()
    match = re.search(rf'<a [^>]*href="{re.escape(href)}"[^>]*>(.*?)</a>', html, re.S)
    return re.sub(r"<[^>]+>|\s+", " ", match.group(1)).strip() if match else None


# --- GDPR export and erasure from the patient page -----------------------------------------------


def test_a_manager_reaches_the_gdpr_export_and_erasure_from_the_patient_page(
    manager: Any, patient: Any
):
    client = signed_in(manager)
    detail = reverse("clinic:patient_detail", args=[patient.pk])
    erase_url = reverse("clinic:patient_erase", args=[patient.pk])

    export = _link_text(client, detail, reverse("clinic:patient_privacy", args=[patient.pk]))
    erase = _link_text(client, detail, erase_url)
    assert export is not None
    assert "data held" in export.lower()
    assert erase is not None
    assert "erase" in erase.lower()
    # Following the erase link asks for confirmation and erases nothing yet.
    confirmation = _page(client, erase_url)
    assert confirmation.find("input", name="confirm") is not None
    patient.refresh_from_db()
    assert patient.erased_at is None


@pytest.mark.parametrize("fixture", ["receptionist", "practitioner_user"])
def test_receptionists_and_practitioners_get_no_gdpr_links_on_the_patient_page(
    request: Any, patient: Any, fixture: str
):
    page = _page(
        signed_in(request.getfixturevalue(fixture)),
        reverse("clinic:patient_detail", args=[patient.pk]),
    )

    hrefs = page.hrefs()
    assert reverse("clinic:patient_privacy", args=[patient.pk]) not in hrefs
    assert reverse("clinic:patient_erase", args=[patient.pk]) not in hrefs


def test_an_erased_patient_page_offers_the_export_but_not_a_second_erasure(
    manager: Any, patient: Any
):
    from clinic import privacy

    privacy.patient_erase(patient_id=patient.pk)
    page = _page(signed_in(manager), reverse("clinic:patient_detail", args=[patient.pk]))

    hrefs = page.hrefs()
    assert reverse("clinic:patient_privacy", args=[patient.pk]) in hrefs
    assert reverse("clinic:patient_erase", args=[patient.pk]) not in hrefs


# --- Consent to email -----------------------------------------------------------------------------


def test_consent_to_email_is_unticked_on_a_new_patient_and_says_what_it_governs(
    receptionist: Any,
):
    page = _page(signed_in(receptionist), reverse("clinic:patient_create"))

    box = page.find("input", name="email_reminders")
    assert box is not None
    assert "checked" not in box
    label = page.text(f"label:{box['id']}")
    assert "reminders" in label
    assert "aftercare" in label
    # Booking notices go whatever is ticked (README, "What a patient gets"): the form says so.
    assert "booking" in page.text(f"{box['id']}_helptext").lower()


def test_editing_a_consenting_patient_keeps_their_consent_ticked(receptionist: Any, patient: Any):
    assert patient.email_reminders is True
    page = _page(signed_in(receptionist), reverse("clinic:patient_update", args=[patient.pk]))

    assert "checked" in page.find("input", name="email_reminders")
