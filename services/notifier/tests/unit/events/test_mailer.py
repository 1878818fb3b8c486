"""The email a queued row becomes: headers that stay headers, a stable Message-ID."""

from __future__ import annotations

import uuid

from notifier.db.emails import Due
from notifier.events.mailer import message_for


def test_a_title_with_a_line_break_stays_in_the_subject() -> None:
    subject = "Ana shared \u201cA\r\nBcc: x@y\u201d"
    due = Due(uuid.uuid4(), "invitation", "b@example.com", subject, "Hello", 1)
    message = message_for(due, "Wishlists <no-reply@wishes.example.org>")
    assert message["Subject"] == "Ana shared \u201cA Bcc: x@y\u201d"
    assert message["Bcc"] is None
    assert message["Message-ID"] == f"<{due.id}@wishes.example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content() == "Hello\n"
