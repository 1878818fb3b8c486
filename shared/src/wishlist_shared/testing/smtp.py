"""An SMTP server for tests that keeps what it receives: the mailbox of every test address.

:class:`SmtpSink` listens on 127.0.0.1 (a free port), accepts every message
and records it with its envelope (``MAIL FROM``, ``RCPT TO``) and its parsed
content. ``refuse_next(n)`` makes it answer the next ``n`` messages with a
temporary failure (451), as a busy or greylisting server does, for tests of
retries. It runs aiosmtpd in a thread of its own, so a test's event loop and
the process under test both just talk SMTP to it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from wishlist_shared.testing.eventually import eventually
from wishlist_shared.testing.processes import free_port

TEMPORARY_FAILURE = "451 4.3.0 Try again later"
_LINK = re.compile(r"https?://[^\s<>\"')]+")


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the sink accepted it."""

    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"] or "")

    @property
    def text(self) -> str:
        """The plain-text body (decoded)."""
        part = self.message.get_body(preferencelist=("plain",))
        return "" if part is None else str(cast(EmailMessage, part).get_content())

    def links(self) -> list[str]:
        return _LINK.findall(self.text)


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        return self.sink._receive(envelope)


class SmtpSink:
    """A recording SMTP server on 127.0.0.1; use as a context manager or start/stop."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self._messages: list[ReceivedMail] = []
        self._lock = threading.Lock()
        self._refuse = 0
        self.refused = 0
        """How many messages were answered with a temporary failure."""
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def notifier_settings(self) -> dict[str, str]:
        """The notifier's settings that send its emails here (``NOTIFIER_*`` variables)."""
        return {"NOTIFIER_SMTP_HOST": self.host, "NOTIFIER_SMTP_PORT": str(self.port)}

    def refuse_next(self, count: int) -> None:
        """Answers the next ``count`` messages with a 451 (the client should try again)."""
        with self._lock:
            self._refuse = count

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    def to(self, address: str) -> list[ReceivedMail]:
        """Every accepted message for ``address`` (case-insensitive), in order of arrival."""
        wanted = address.lower()
        return [m for m in self.messages if wanted in (r.lower() for r in m.recipients)]

    async def wait_for(
        self, address: str, count: int = 1, *, timeout: float = 30.0
    ) -> list[ReceivedMail]:
        """The messages for ``address`` once there are ``count`` (failing if ever more)."""

        def arrived() -> list[ReceivedMail]:
            got = self.to(address)
            assert len(got) <= count, [m.subject for m in got]
            assert len(got) == count, f"{len(got)} of {count} emails for {address}"
            return got

        return await eventually(arrived, timeout=timeout, message=f"no email for {address}")

    def _receive(self, envelope: Envelope) -> str:
        with self._lock:
            if self._refuse > 0:
                self._refuse -= 1
                self.refused += 1
                return TEMPORARY_FAILURE
            raw = envelope.original_content or envelope.content or b""
            data = raw if isinstance(raw, bytes) else str(raw).encode()
            message = message_from_bytes(data, policy=policy.default)
            self._messages.append(
                ReceivedMail(
                    sender=str(envelope.mail_from),
                    recipients=tuple(envelope.rcpt_tos),
                    message=message,
                )
            )
        return "250 Message accepted for delivery"


def running_sink() -> Iterator[SmtpSink]:
    """A started sink, stopped afterwards (the body of the ``smtp_sink`` fixtures)."""
    with SmtpSink() as sink:
        yield sink
