"""The SMTP sink of the fixture layer: it keeps what it accepts and refuses on demand."""

from __future__ import annotations

import asyncio
import smtplib

import pytest

from wishlist_shared.testing.smtp import SmtpSink

MESSAGE = (
    "From: Wishlists <no-reply@example.org>\r\n"
    "To: ann@example.org\r\n"
    "Subject: Hello\r\n"
    "Message-ID: <1@example.org>\r\n"
    "\r\n"
    "Follow http://web.test/register?email=ann%40example.org now.\r\n"
)


def send(sink: SmtpSink, recipients: list[str]) -> None:
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
        client.sendmail("no-reply@example.org", recipients, MESSAGE)


async def test_the_sink_records_envelope_and_content(smtp_sink: SmtpSink) -> None:
    await asyncio.to_thread(send, smtp_sink, ["Ann@example.org", "bob@example.org"])
    (mail,) = await smtp_sink.wait_for("ann@example.org")
    assert mail.sender == "no-reply@example.org"
    assert mail.recipients == ("Ann@example.org", "bob@example.org")
    assert (mail.subject, mail.message_id) == ("Hello", "<1@example.org>")
    assert mail.links() == ["http://web.test/register?email=ann%40example.org"]
    assert smtp_sink.to("bob@example.org") == [mail]
    assert smtp_sink.to("carl@example.org") == []


async def test_the_sink_refuses_the_next_messages_with_a_temporary_failure(
    smtp_sink: SmtpSink,
) -> None:
    smtp_sink.refuse_next(2)
    for _ in range(2):
        with pytest.raises(smtplib.SMTPDataError) as refused:
            await asyncio.to_thread(send, smtp_sink, ["ann@example.org"])
        assert refused.value.smtp_code == 451
    await asyncio.to_thread(send, smtp_sink, ["ann@example.org"])
    assert smtp_sink.refused == 2
    assert len(await smtp_sink.wait_for("ann@example.org")) == 1
