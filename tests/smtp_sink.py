"""A real SMTP server (aiosmtpd) on a free port that keeps what it receives.

It can refuse the next messages with a temporary ``451``, refuse a recipient for good with
``550``, answer each message only after a delay (a slow server) or stop listening (an outage),
to exercise retries against a real SMTP conversation rather than a fake backend.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SinkHandler:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refusals = 0
        self.refused_recipients: set[str] = set()
        self.sessions: set[int] = set()  # SMTP connections that delivered something
        self.delay_seconds = 0.0  # how long the server takes to accept each message
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list
    ) -> str:
        if address in self.refused_recipients:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay_seconds:
            # Other sessions go on meanwhile: the sink serves every connection on one loop.
            await asyncio.sleep(self.delay_seconds)
        with self.lock:
            if self.refusals > 0:
                self.refusals -= 1
                return "451 4.3.0 Mailbox busy, try again later"
            self.sessions.add(id(session))
            self.messages.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)
            )
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self) -> None:
        self.handler = SinkHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[Message]:
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def session_count(self) -> int:
        """How many SMTP connections delivered at least one message."""
        with self.handler.lock:
            return len(self.handler.sessions)

    def refuse_next(self, count: int = 1) -> None:
        """Answer the next ``count`` messages with 451 (try again later)."""
        self.handler.refusals = count

    def answer_after(self, seconds: float) -> None:
        """Accept each message only ``seconds`` after its data arrived (a slow server)."""
        self.handler.delay_seconds = seconds

    def refuse_recipient(self, address: str) -> None:
        """Answer 550 (no such mailbox) for this address, for good."""
        self.handler.refused_recipients.add(address)

    def subjects_to(self, address: str) -> list[str]:
        return [str(message["Subject"]) for message in self.messages if address in message["To"]]


@contextmanager
def running_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.controller.start()
    try:
        yield sink
    finally:
        sink.controller.stop()


def smtp_settings(settings: Any, sink: SmtpSink) -> None:
    """Point Django's SMTP backend at the sink (pytest-django ``settings`` fixture)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
