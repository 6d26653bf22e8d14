"""Every page names an icon, and /favicon.ico (which browsers ask for anyway) answers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _icon_href(html: str) -> str:
    match = re.search(r'<link rel="icon" href="([^"]+)"', html)
    assert match, "no <link rel=icon> on the page"
    return match.group(1)


def test_favicon_ico_is_no_longer_a_404(client: Client):
    response = client.get("/favicon.ico", follow=True)

    assert response.status_code == 200
    assert response["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_page_links_an_icon_served_from_the_clinic_itself(
    client: Client, receptionist: Any, signed_in: bool
):
    if signed_in:
        client.force_login(receptionist)
    page = client.get("/" if signed_in else "/accounts/login/")

    href = _icon_href(page.content.decode())
    assert href.startswith("/static/")  # 'self' in the CSP's img-src: no policy change needed
    icon = client.get(href)
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    assert "img-src 'self'" in page["Content-Security-Policy"]
