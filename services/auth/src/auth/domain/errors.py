"""What can go wrong in auth, said in the domain's words; the API maps each to a status."""

from __future__ import annotations


class AuthError(Exception):
    """Base of auth's domain errors; the message is safe to show to the caller."""


class EmailTaken(AuthError):  # noqa: N818 - named for the condition, as domain errors are
    def __init__(self) -> None:
        super().__init__("An account with this email already exists.")


class InvalidCredentials(AuthError):  # noqa: N818 - named for the condition, as domain errors are
    # One message for unknown email and wrong password: the answer must not
    # tell which accounts exist.
    def __init__(self) -> None:
        super().__init__("The email or password is incorrect.")


class WrongPassword(AuthError):  # noqa: N818 - named for the condition, as domain errors are
    def __init__(self) -> None:
        super().__init__("The current password is incorrect.")


class InvalidRefreshToken(AuthError):  # noqa: N818 - named for the condition, as domain errors are
    def __init__(self) -> None:
        super().__init__("The refresh token is invalid, expired or revoked.")


class AccountGone(AuthError):  # noqa: N818 - named for the condition, as domain errors are
    def __init__(self) -> None:
        super().__init__("The account of this access token no longer exists.")


class InvalidResetToken(AuthError):  # noqa: N818 - named for the condition, as domain errors are
    # One message for unknown, spent, expired and malformed tokens: which of
    # them it was helps nobody but a guesser.
    def __init__(self) -> None:
        super().__init__("The password-reset link is invalid or has expired; ask for a new one.")
