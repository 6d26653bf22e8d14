"""A removed or damaged broker folder (make run's filesystem queue) takes no page down:
pages keep serving, /healthz names the broker without internals, emails wait in the ledger."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.celery import app as celery_app
from clinic.models import MessageStatus, OutboundMessage
from clinic.tasks import kick_sends, send_message
from tests.clinic.test_messaging_outbox import add_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """make run's broker: the filesystem transport under a var/broker folder."""
    folder = tmp_path / "var" / "broker"
    for sub in ("queue", "control"):
        (folder / sub).mkdir(parents=True)
    monkeypatch.setattr(celery_app.conf, "broker_url", "filesystem://")
    monkeypatch.setattr(
        celery_app.conf,
        "broker_transport_options",
        {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        },
    )
    return folder


@pytest.fixture
def queue_refuses() -> Iterator[None]:
    """Sending a task fails as kombu's filesystem transport does without its folder.

    Set on the task itself and deleted afterwards (not monkeypatch's undo, which would leave
    a bound method on the instance and hide later class-level patches of ``apply_async``).
    """

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise FileNotFoundError(2, "No such file or directory", "/srv/clinic/var/broker/queue")

    task = getattr(send_message, "_get_current_object", lambda: send_message)()
    task.apply_async = refuse
    yield
    del task.apply_async


def test_healthz_is_green_with_a_working_broker_folder(client: Client, broker_folder: Path):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"]["ok"] is True


@pytest.mark.parametrize("damage", ["removed", "replaced by a file"])
def test_healthz_names_the_broker_when_its_folder_is_gone_without_internals(
    client: Client, broker_folder: Path, damage: str
):
    shutil.rmtree(broker_folder)
    if damage == "replaced by a file":
        broker_folder.write_text("garbage")

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert "message queue" in body["broker"]["detail"]
    assert str(broker_folder) not in response.content.decode()


def test_pages_keep_serving_while_the_broker_folder_is_gone(
    client: Client, receptionist: Any, broker_folder: Path
):
    shutil.rmtree(broker_folder)
    client.force_login(receptionist)
    assert client.get(reverse("clinic:outbox_list")).status_code == 200
    assert client.get("/patients/").status_code == 200


def test_a_resend_while_the_broker_is_down_is_kept_for_the_next_sweep_not_a_500(
    client: Client, receptionist: Any, patient: Any, queue_refuses: None
):
    # Due now, so it is still worth sending (a resend of an expired message is refused).
    failed = add_message(
        patient,
        key="k-failed",
        status=MessageStatus.FAILED,
        attempts=5,
        last_error="SMTP 451",
        due_at=timezone.now(),
    )
    client.force_login(receptionist)

    response = client.post(reverse("clinic:outbox_resend", args=[failed.pk]))

    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == MessageStatus.PENDING  # in the ledger, due: the sweep sends it


def test_a_kick_the_broker_refuses_is_logged_and_never_raises(
    queue_refuses: None, caplog: pytest.LogCaptureFixture
):
    kick_sends([1, 2, 3])
    assert "broker unavailable (FileNotFoundError); 3 message(s) wait" in caplog.text
    assert OutboundMessage.objects.count() == 0
