"""What can go wrong in the notifier, said in the domain's words; the API maps each to a status."""

from __future__ import annotations


class NotifierError(Exception):
    """Base of the notifier's domain errors; the message is safe to show to the caller."""


class NotificationNotFound(NotifierError):  # noqa: N818 - named for the condition
    """No such notification for the caller: someone else's looks the same as none."""

    def __init__(self) -> None:
        super().__init__("No notification with this id.")


class InvalidCursor(NotifierError):  # noqa: N818 - named for the condition
    def __init__(self) -> None:
        super().__init__("The cursor is not one this API returned.")
