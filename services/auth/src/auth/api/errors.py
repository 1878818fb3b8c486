"""How each domain error is told to a client (RFC 9457 problem details)."""

from __future__ import annotations

from auth.domain.errors import (
    AccountGone,
    EmailTaken,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidResetToken,
    WrongPassword,
)
from wishlist_shared.problems import ProblemType
from wishlist_shared.security import UNAUTHORIZED

DOMAIN_ERRORS: dict[type[Exception], ProblemType] = {
    EmailTaken: ProblemType(409, "email-taken", "Email already registered"),
    InvalidCredentials: ProblemType(401, "invalid-credentials", "Invalid credentials"),
    WrongPassword: ProblemType(401, "wrong-password", "Wrong password"),
    InvalidRefreshToken: ProblemType(401, "invalid-refresh-token", "Invalid refresh token"),
    InvalidResetToken: ProblemType(400, "reset-token-invalid", "Invalid reset token"),
    AccountGone: UNAUTHORIZED,
}
